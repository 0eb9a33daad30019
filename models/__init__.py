"""Typed SQLAlchemy 2 models, re-exported for callers."""

from models.allowance import ChatSlot, SendAllowance
from models.app_secrets import AppSecret
from models.base import Base, utcnow
from models.channel_menus import ChannelMenu
from models.conversation import Conversation
from models.deeds import DeedPhoto, DeedStatus, GoodDeed
from models.group_history import ChangeKind, GroupLineage
from models.inbox import InboxState, InboxUpdate
from models.media import Media, MediaFileId
from models.members import CodeAttempt, Group, HashScheme, Identity, Invite, Member, Role
from models.outbox import Broadcast, JobRun, OutboxMessage, OutboxStatus, ReminderMute
from models.pledges import Pledge
from models.reports import AuditEntry, Period, Report, ReportStatus, ReportValue

__all__ = [
    "AppSecret",
    "AuditEntry",
    "Base",
    "Broadcast",
    "ChangeKind",
    "ChannelMenu",
    "ChatSlot",
    "CodeAttempt",
    "Conversation",
    "DeedPhoto",
    "DeedStatus",
    "GoodDeed",
    "Group",
    "GroupLineage",
    "HashScheme",
    "Identity",
    "InboxState",
    "InboxUpdate",
    "Invite",
    "JobRun",
    "Media",
    "MediaFileId",
    "Member",
    "OutboxMessage",
    "OutboxStatus",
    "Period",
    "Pledge",
    "ReminderMute",
    "Report",
    "ReportStatus",
    "ReportValue",
    "Role",
    "SendAllowance",
    "utcnow",
]
