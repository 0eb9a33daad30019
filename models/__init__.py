"""Typed SQLAlchemy 2 models, re-exported for callers."""

from models.base import Base, utcnow
from models.conversation import Conversation
from models.deeds import DeedPhoto, DeedStatus, GoodDeed
from models.members import CodeAttempt, Group, Identity, Invite, Member, Role
from models.reports import AuditEntry, Period, Report, ReportStatus, ReportValue

__all__ = [
    "AuditEntry",
    "Base",
    "CodeAttempt",
    "Conversation",
    "DeedPhoto",
    "DeedStatus",
    "GoodDeed",
    "Group",
    "Identity",
    "Invite",
    "Member",
    "Period",
    "Report",
    "ReportStatus",
    "ReportValue",
    "Role",
    "utcnow",
]
