"""The generator's own event model: what the demo tenant *is*, before it is dressed as Graph JSON.

Everything is a frozen dataclass with Instants (integer milliseconds, see clock.py). The directory and the
state at `as_of` live in `TenantModel`; the year of activation requests is not stored in it but streamed by
history.py from each eligibility's own seed, because an L tenant has over half a million of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pipelines.demo_tenant.clock import YEAR, Instant

ROOT_SCOPE = "/"


class PrincipalType(StrEnum):
    USER = "User"
    GROUP = "Group"
    SERVICE_PRINCIPAL = "ServicePrincipal"


class AssignmentKind(StrEnum):
    ASSIGNED = "Assigned"  # made active by an admin through PIM (permanent or time-bound)
    ACTIVATED = "Activated"  # a just-in-time activation of an eligibility, running at as_of
    OUTSIDE_PIM = "OutsidePim"  # a legacy direct assignment: a roleAssignment with no PIM schedule


class Decision(StrEnum):
    APPROVED = "approved"
    DENIED = "denied"


class Outcome(StrEnum):
    """How an activation request ended, with the names docs/audit-events.md uses."""

    ACTIVATED = "activated"
    DENIED = "denied"
    EXPIRED = "expired"  # nobody decided within the approval window
    CANCELED = "canceled"
    FAILED = "failed"
    PENDING = "pending"  # still in flight at as_of


class JustificationHabit(StrEnum):
    TICKETED = "ticketed"  # cites a change or incident number and says what for
    TERSE = "terse"  # "admin work", reused by everyone
    BLANK = "blank"  # empty when allowed, a placeholder when not


@dataclass(frozen=True, slots=True)
class Tenant:
    id: str
    display_name: str
    initial_domain: str  # <name>.onmicrosoft.com: break-glass and some admin accounts live here
    default_domain: str  # the custom domain everyday accounts use
    created_at: Instant
    seed: int
    size: str
    as_of: Instant

    @property
    def window_start(self) -> Instant:
        """Where the year of audit history begins."""
        return self.as_of - YEAR


@dataclass(frozen=True, slots=True)
class User:
    id: str
    display_name: str
    given_name: str | None
    surname: str | None
    user_principal_name: str
    mail: str | None
    user_type: str  # Member | Guest
    account_enabled: bool
    department: str | None
    job_title: str | None
    office_location: str | None
    usage_location: str
    created_at: Instant
    on_premises_immutable_id: str | None  # set exactly for accounts synced from on-premises AD
    # Simulation only, never written: where the person works and how they behave in PIM.
    time_zone: str
    ip_address: str
    justification_habit: JustificationHabit
    activity: float  # multiplies the role's usual activation rate; 0 for people who never activate
    is_break_glass: bool = False
    # mailboxSettings.timeZone as Graph gives it (a Windows name, an IANA name, or CUSTOM_TIME_ZONE); None for a
    # user without an Exchange Online mailbox (Graph answers 404 MailboxNotEnabledForRESTAPI).
    mailbox_time_zone: str | None = None

    @property
    def synced(self) -> bool:
        return self.on_premises_immutable_id is not None


@dataclass(frozen=True, slots=True)
class Group:
    id: str
    display_name: str
    description: str
    mail_nickname: str
    mail_enabled: bool
    security_enabled: bool
    is_assignable_to_role: bool
    group_types: tuple[str, ...]
    created_at: Instant


@dataclass(frozen=True, slots=True)
class Credential:
    """Metadata of an app secret or certificate; the secret itself never exists in the model."""

    key_id: str
    display_name: str
    start: Instant
    end: Instant


@dataclass(frozen=True, slots=True)
class ServicePrincipal:
    id: str
    app_id: str
    display_name: str
    service_principal_type: str  # Application | ManagedIdentity
    app_owner_organization_id: str | None
    created_at: Instant
    passwords: tuple[Credential, ...] = ()
    certificates: tuple[Credential, ...] = ()


@dataclass(frozen=True, slots=True)
class AdministrativeUnit:
    id: str
    display_name: str
    description: str

    @property
    def scope(self) -> str:
        return f"/administrativeUnits/{self.id}"


@dataclass(frozen=True, slots=True)
class RoleDefinition:
    id: str  # equals the template id for built-in roles
    display_name: str
    description: str
    is_built_in: bool
    is_enabled: bool
    is_privileged: bool
    allowed_actions: tuple[str, ...]
    tier: int  # 0 control plane, 1 other privileged, 2 not privileged
    au_scopable: bool
    activations_per_year: float

    @property
    def counts_as_privileged(self) -> bool:
        """Privileged as docs/metrics.md means it: the resolved tier is tier0 or tier1 (the design.yaml the
        generator writes sets every role's tier). `is_privileged` is Microsoft's flag, reported only."""
        return self.tier <= 1


@dataclass(frozen=True, slots=True)
class RolePolicy:
    """The PIM settings of one role: the 17 rules of graph-pim.md section 3, reduced to what varies."""

    id: str
    role_id: str
    # Activation (end user)
    approval_required: bool
    approver_ids: tuple[str, ...]
    mfa_on_activation: bool
    authentication_context: str | None  # a Conditional Access claim such as "c1", instead of plain MFA
    justification_on_activation: bool
    ticketing_on_activation: bool
    max_activation: Instant
    # Assignment (admin)
    eligibility_expiration_required: bool
    max_eligibility: Instant
    active_expiration_required: bool
    max_active: Instant
    mfa_on_active_assignment: bool
    # Notifications: extra addresses that get the "role activated" mail besides the default recipients
    activation_alert_recipients: tuple[str, ...]
    last_modified_at: Instant
    last_modified_by: str  # user id
    # Approvers the approval rule lists beside approver_ids who never decide a request: ("user", id, description)
    # of a disabled or deleted account, or ("group", id, description) whose members the history never picks.
    listed_only_approvers: tuple[tuple[str, str, str], ...] = ()
    # Simulation only, never written: the longest activation the role's holders habitually ask for, when their
    # work is shorter than the policy's maximum (None: they ask as history.pick_duration picks).
    habitual_activation: Instant | None = None
    # Simulation only: the approvers approve every request they decide (the generator's usual denials do not happen).
    approves_every_request: bool = False

    @property
    def listed_approver_count(self) -> int:
        """The primary approvers the approval rule lists (a group counts once, as Graph lists it)."""
        return len(self.approver_ids) + len(self.listed_only_approvers)

    @property
    def requires_mfa(self) -> bool:
        return self.mfa_on_activation or self.authentication_context is not None


@dataclass(frozen=True, slots=True)
class PlannedActivation:
    """An activation that is running at as_of, fixed up front so the state and the history agree."""

    requested_at: Instant
    approval_requested_at: Instant | None
    decided_at: Instant | None
    completed_at: Instant
    granted_end: Instant  # after as_of


@dataclass(frozen=True, slots=True)
class Eligibility:
    id: str  # the eligibility schedule instance id (ends in -e)
    schedule_id: str
    principal_id: str
    principal_type: PrincipalType
    role_id: str
    directory_scope_id: str
    start: Instant
    end: Instant | None  # None = permanent
    # Simulation only: how often the principal activates it, and the seed of its own history.
    activations_per_year: float
    history_seed: int
    live_activation: PlannedActivation | None = None
    # The first requests of the year end these ways, so every tenant shows every outcome at least once.
    opening_outcomes: tuple[Outcome, ...] = ()

    def is_current(self, at: Instant) -> bool:
        return self.start <= at and (self.end is None or at < self.end)


@dataclass(frozen=True, slots=True)
class ActiveAssignment:
    """An active role assignment at as_of; one `roleAssignments` row, and one schedule instance unless
    it was made outside PIM."""

    id: str  # the roleAssignment id, which is also the instance's id and roleAssignmentOriginId
    schedule_id: str | None  # None for assignments made outside PIM
    principal_id: str
    principal_type: PrincipalType
    role_id: str
    directory_scope_id: str
    kind: AssignmentKind
    start: Instant
    end: Instant | None  # None = permanent
    created_by: str | None = None  # the admin who made an outside-PIM assignment
    eligibility_id: str | None = None  # the eligibility an Activated assignment came from


@dataclass(frozen=True, slots=True)
class Ticket:
    number: str
    system: str


@dataclass(frozen=True, slots=True)
class Deactivation:
    """A self-deactivation: a request of its own that ends an activation early."""

    request_id: str
    correlation_id: str
    requested_at: Instant
    completed_at: Instant


@dataclass(frozen=True, slots=True)
class ActivationRequest:
    """One PIM self-activation and everything that happened to it up to as_of.

    A step that had not happened by as_of is None: the model is the tenant as frozen, not as it would go on.
    """

    request_id: str
    correlation_id: str
    eligibility_id: str
    principal_id: str
    role_id: str
    directory_scope_id: str
    requested_at: Instant
    requested_duration: Instant
    justification: str
    ticket: Ticket | None
    ip_address: str
    approval_requested_at: Instant | None = None
    approver_id: str | None = None
    decision: Decision | None = None
    decided_at: Instant | None = None
    decision_reason: str = ""
    approval_expired_at: Instant | None = None  # nobody decided in time: MS-PIM expired it
    canceled_at: Instant | None = None
    completed_at: Instant | None = None
    failure_reason: str | None = None  # set when the completed step failed
    authenticated_with_mfa: bool = False
    ran_out_at: Instant | None = None  # the activation reached its granted end
    deactivation: Deactivation | None = None
    # Set when the eligibility ends before the requested end: PIM grants the activation only up to there.
    eligibility_end: Instant | None = None

    @property
    def requested_end(self) -> Instant:
        return self.requested_at + self.requested_duration

    @property
    def granted_end(self) -> Instant | None:
        """The end PIM granted: activations start when they complete and last the requested duration, cut at
        the eligibility's end when that comes first."""
        if self.completed_at is None or self.failure_reason is not None:
            return None
        natural = self.completed_at + self.requested_duration
        return natural if self.eligibility_end is None else min(natural, self.eligibility_end)

    @property
    def is_granted_shorter_than_requested(self) -> bool:
        """A successful activation whose granted span is shorter than the duration asked for."""
        granted_end = self.granted_end
        if granted_end is None or self.completed_at is None:
            return False
        return granted_end - self.completed_at < self.requested_duration

    @property
    def outcome(self) -> Outcome:
        if self.decision is Decision.DENIED:
            return Outcome.DENIED
        if self.approval_expired_at is not None:
            return Outcome.EXPIRED
        if self.canceled_at is not None:
            return Outcome.CANCELED
        if self.completed_at is not None:
            return Outcome.FAILED if self.failure_reason is not None else Outcome.ACTIVATED
        return Outcome.PENDING


@dataclass(frozen=True, slots=True)
class OutsidePimEvent:
    """`Add member to role outside of PIM (permanent)`: logged when a legacy assignment is made in the window."""

    request_id: str
    correlation_id: str
    at: Instant
    assignment: ActiveAssignment


@dataclass(frozen=True, slots=True)
class TenantModel:
    tenant: Tenant
    users: tuple[User, ...]
    groups: tuple[Group, ...]
    service_principals: tuple[ServicePrincipal, ...]
    administrative_units: tuple[AdministrativeUnit, ...]
    roles: tuple[RoleDefinition, ...]
    policies: tuple[RolePolicy, ...]
    # Every eligibility the year saw, including ones that ended before as_of (they explain old activations).
    eligibilities: tuple[Eligibility, ...]
    # Active assignments at as_of (Assigned, Activated and outside PIM).
    assignments: tuple[ActiveAssignment, ...]
    outside_pim_events: tuple[OutsidePimEvent, ...]
    # Eligibilities on a role the catalogue no longer lists (a deleted custom role), as real tenants keep them: the
    # schedule files name the role id, roleDefinitions does not. Nobody activates or reviews them; a reader keeps each
    # as "unknown role <id>", counts it as unreadable and never as privileged (docs/metrics.md).
    unlisted_role_eligibilities: tuple[Eligibility, ...] = ()

    def current_eligibilities(self) -> tuple[Eligibility, ...]:
        at = self.tenant.as_of
        return tuple(e for e in self.eligibilities if e.is_current(at))

    def written_eligibilities(self) -> tuple[Eligibility, ...]:
        """The eligibilities the schedule files list at as_of: the current ones and those on unlisted roles."""
        return self.current_eligibilities() + self.unlisted_role_eligibilities
