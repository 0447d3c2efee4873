//! Tongxin's persistence: the only crate that speaks SQL.
//!
//! What lives here: connecting to SQLite or PostgreSQL (chosen by the URL), the migrations, the
//! access layer that decides who may see and change each kind of record ([`access`]), the
//! repositories for units and accounts, server-side sessions, and the hash-chained audit log.
//! What must not: HTTP, templates, or wall-clock reads (time is passed in as a
//! [`tongxin_core::Timestamp`]).

pub mod access;
mod accounts;
mod activities;
mod attachments;
mod audit;
mod backup;
mod campaigns;
mod cases;
mod channels;
mod crypto;
mod db;
mod directory;
mod entity;
mod error;
mod jobs;
mod like;
mod materials;
mod migration;
mod notifications;
mod page;
mod sealing;
mod surveys;
mod units;

pub use access::Actor;
pub use accounts::password::generate_password;
pub use accounts::sessions::{Credentials, SessionKind, SessionSecret, SessionView, random_hex};
pub use accounts::tokens::ApiTokenView;
pub use accounts::two_factor::{SecondFactorSetup, SecondFactorStatus};
pub use accounts::{AccountQuery, AccountView, NewAccount, Policy, SecondFactorRule};
pub use activities::filters::SavedFilter;
pub use activities::{
    ActivityChange, ActivityInput, ActivityKindView, ActivityQuery, ActivityView, Admission,
    AttendanceCounts, CHECK_IN_LINK_SECONDS, CHECK_IN_MARGIN_MINUTES,
    CHECK_IN_SCREEN_REFRESH_SECONDS, CheckIn, CheckInLink, CheckInPreview, InvitationView,
    Invitees, MAX_INVITES_PER_REQUEST, PhotoView,
};
pub use audit::archive::{ArchiveHeader, MIN_AUDIT_RETENTION_DAYS};
pub use audit::check::{ChainTail, CheckReport, Fault, TAIL_ROWS};
pub use audit::export::AuditExport;
pub use audit::keying::ChainKeying;
pub use audit::{AuditEntry, AuditQuery};
pub use backup::{Manifest, restore};
pub use campaigns::{
    CampaignInput, CampaignView, CoverageReport, UNREACHED_EXPORT_MAX, UnitCoverage,
    UnreachedBatch, UnreachedPerson,
};
pub use cases::{
    CASE_CATEGORIES, CaseAction, CaseDetail, CaseEventView, CaseFileView, CaseInput, CaseQuery,
    CaseStatistics, CaseStatsQuery, CaseTypeView, CaseUpload, CaseView, DeadlineSweep,
    DepartmentView, ExtensionView, MAX_CASE_BODY_CHARS, MAX_COSUBMITTERS, MAX_DEFAULT_DAYS,
    MAX_TEAM_MEMBERS, OutcomeCounts, OutcomeInput, OutcomeView, PlanStepView, Tally, TeamView,
    TopicDetail, TopicInput, TopicView,
};
pub use channels::{
    CHANNEL_EVENTS, ChannelInput, ChannelKind, ChannelTarget, ChannelView, url_hint,
};
pub use crypto::{FieldKeys, KeyError};
pub use db::{Engine, Store, StoreOptions, Upgraded};
pub use directory::access_log::{ACCESS_SHOWN_DAYS, AccessEntry, AccessKind};
pub use directory::export::{Export, ExportRow, Protection};
pub use directory::import::PeopleImport;
pub use directory::organizations::{
    AffiliationView, AffiliationsOf, OrganizationInput, OrganizationKind, OrganizationQuery,
    OrganizationView,
};
pub use directory::people::{
    ImportOutcome, MembershipFields, MembershipView, PeopleChange, PeopleQuery, PersonFields,
    PersonInput, PersonOrder, PersonStatus, PersonSummary, PersonView, RowRefusal, SensitiveField,
    split_tags,
};
pub use directory::proposals::{
    Decision, ProposalField, ProposalQuery, ProposalStatus, ProposalView, ProposedChange,
};
pub use directory::sectors::{
    Membership, MembershipValue, SectorChange, SectorFieldChange, SectorFieldInput,
    SectorFieldView, SectorView,
};
pub use error::{LoginError, StoreError};
pub use jobs::{
    ClaimedJob, DEFAULT_ATTEMPTS, INTERRUPTED, JobQuery, JobState, JobView, NewJob, TakenBack,
    backoff_seconds,
};
pub use materials::{
    MAX_MATERIAL_MIB, MaterialImport, MaterialQuery, MaterialUpload, MaterialView,
};
pub use notifications::{
    Delivered, Delivery, Event, KEEP_DAYS, KINDS, MERGE_WINDOW_SECONDS, NOTIFY, Notice,
    NotificationView, Recipients, kinds_for,
};
pub use page::{COUNT_CAP, Page, PageRequest, Total};
pub use surveys::{
    AnswerValue, MAX_CHOICES, MAX_QUESTIONS, QuestionInput, QuestionKind, QuestionResult,
    QuestionView, SurveyInput, SurveyResults, SurveyView,
};
pub use units::{NewUnit, UnitChange, UnitChoice, UnitQuery, UnitSeed, UnitSummary, UnitView};
