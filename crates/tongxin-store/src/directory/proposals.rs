//! Self-declared updates (本人申报): a member proposes changes to their own record from the
//! portal; staff of the person's unit approve or reject each change on its own. An approved
//! change enters the record's history naming the staff member and the member who proposed it.
//!
//! A member account reaches its record only through the link staff made (`users.person_id`);
//! staff reach proposals only for people of their subtree.

use std::collections::HashMap;

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::json;
use tongxin_core::{
    Field, Invalid, MobilePhone, PERSON_FIELDS, Reason, Role, Timestamp, Username, mask_phone,
};

use crate::Store;
use crate::access::{self, Actor, Unguarded};
use crate::audit::{self, Event};
use crate::crypto::SealedAt;
use crate::directory::people::{Author, PersonView, SensitiveField, record_history};
use crate::entity::{person, person_proposal, user};
use crate::error::{Result, StoreError};
use crate::notifications;
use crate::page::{Total, capped_count};

/// A field members may propose changes to: how to reach them and what they do. Identity
/// (name, ID number, birth date), sector memberships and notes stay with staff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProposalField {
    Phone,
    Address,
    Employer,
    Title,
    Occupation,
    Education,
    PoliticalAffiliation,
}

impl ProposalField {
    pub const ALL: [ProposalField; 7] = [
        ProposalField::Phone,
        ProposalField::Address,
        ProposalField::Employer,
        ProposalField::Title,
        ProposalField::Occupation,
        ProposalField::Education,
        ProposalField::PoliticalAffiliation,
    ];

    /// The field's key, as in the person record and its history.
    pub fn key(self) -> &'static str {
        match self {
            ProposalField::Phone => "phone",
            ProposalField::Address => "address",
            ProposalField::Employer => "employer",
            ProposalField::Title => "title",
            ProposalField::Occupation => "occupation",
            ProposalField::Education => "education",
            ProposalField::PoliticalAffiliation => "political_affiliation",
        }
    }

    pub fn parse(key: &str) -> Option<ProposalField> {
        ProposalField::ALL.into_iter().find(|f| f.key() == key)
    }

    /// The value on record, as the member and staff see it (a phone number masked).
    fn current(self, store: &Store, m: &person::Model) -> Result<Option<String>> {
        Ok(match self {
            ProposalField::Phone => store.masked(m, SensitiveField::Phone)?,
            ProposalField::Address => m.address.clone(),
            ProposalField::Employer => m.employer.clone(),
            ProposalField::Title => m.title.clone(),
            ProposalField::Occupation => m.occupation.clone(),
            ProposalField::Education => m.education.clone(),
            ProposalField::PoliticalAffiliation => m.political_affiliation.clone(),
        })
    }
}

/// Where a proposal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProposalStatus {
    Pending,
    Approved,
    Rejected,
    /// Replaced by a later proposal for the same field before anyone decided.
    Withdrawn,
}

impl ProposalStatus {
    pub fn key(self) -> &'static str {
        match self {
            ProposalStatus::Pending => "pending",
            ProposalStatus::Approved => "approved",
            ProposalStatus::Rejected => "rejected",
            ProposalStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(key: &str) -> Option<ProposalStatus> {
        [
            ProposalStatus::Pending,
            ProposalStatus::Approved,
            ProposalStatus::Rejected,
            ProposalStatus::Withdrawn,
        ]
        .into_iter()
        .find(|s| s.key() == key)
    }
}

/// One proposed change as shown; a phone number is masked on both sides.
#[derive(Debug, Clone)]
pub struct ProposalView {
    pub id: i64,
    pub person_id: i64,
    pub person_name: String,
    pub field: ProposalField,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub status: ProposalStatus,
    pub proposer_name: String,
    pub proposed_at: Timestamp,
    pub decided_by: Option<String>,
    pub decided_at: Option<Timestamp>,
    pub reason: Option<String>,
}

/// A change a member proposes, already checked field by field. A text field may be cleared
/// (`None`); a phone number only replaced.
#[derive(Debug, Clone)]
pub enum ProposedChange {
    Phone(MobilePhone),
    Text(ProposalField, Option<String>),
}

impl ProposedChange {
    fn field(&self) -> ProposalField {
        match self {
            ProposedChange::Phone(_) => ProposalField::Phone,
            ProposedChange::Text(field, _) => *field,
        }
    }
}

/// What staff decide about a proposal.
#[derive(Debug, Clone)]
pub enum Decision {
    Approve,
    Reject { reason: Option<String> },
}

/// Which proposals staff list.
#[derive(Debug, Clone, Default)]
pub struct ProposalQuery {
    pub status: Option<ProposalStatus>,
    pub person_id: Option<i64>,
}

/// The most proposals one list returns; the pending ones of a subtree stay far below it.
const LIST_LIMIT: u64 = 500;

impl Store {
    /// Links a member account to the person it belongs to, so the member can see their record
    /// and propose changes. Both must lie in the actor's subtree; each links to one only.
    pub async fn link_member(
        &self,
        actor: &Actor,
        now: Timestamp,
        person_id: i64,
        username: &Username,
    ) -> Result<()> {
        actor.require_editor()?;
        let tx = self.begin_write().await?;
        let person = self.find_person(&tx, actor, person_id).await?;
        let account = self.find_account_in_scope(&tx, actor, username).await?;
        if account.role != Role::Member.as_str() {
            return Err(Invalid::new(Field::Username, Reason::UnknownRole).into());
        }
        if account.person_id.is_some_and(|p| p != person_id) {
            return Err(Invalid::new(Field::Username, Reason::Taken).into());
        }
        access::update_rows::<user::Entity>(Unguarded::PartsOf)
            .col_expr(user::Column::PersonId, Option::<i64>::None.into())
            .filter(user::Column::PersonId.eq(person_id))
            .exec(&tx)
            .await?;
        user::ActiveModel {
            id: Set(account.id),
            person_id: Set(Some(person_id)),
            updated_at: Set(now.micros()),
            ..Default::default()
        }
        .update(&tx)
        .await?;
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("person.member_link")
                .target("person", person_id, &person.name)
                .unit(&person.unit_path)
                .detail(json!({ "username": account.username })),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes the link between a person and their member account, if any.
    pub async fn unlink_member(&self, actor: &Actor, now: Timestamp, person_id: i64) -> Result<()> {
        actor.require_editor()?;
        let tx = self.begin_write().await?;
        let person = self.find_person(&tx, actor, person_id).await?;
        let unlinked = access::update_rows::<user::Entity>(Unguarded::PartsOf)
            .col_expr(user::Column::PersonId, Option::<i64>::None.into())
            .filter(user::Column::PersonId.eq(person_id))
            .exec(&tx)
            .await?;
        if unlinked.rows_affected > 0 {
            audit::append(
                &tx,
                &self.keys,
                now,
                actor,
                Event::new("person.member_unlink")
                    .target("person", person_id, &person.name)
                    .unit(&person.unit_path),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The user name of the member account linked to a person of the actor's subtree.
    pub async fn linked_member(&self, actor: &Actor, person_id: i64) -> Result<Option<String>> {
        actor.require_staff_area()?;
        self.find_person(&self.db, actor, person_id).await?;
        Ok(access::unguarded::<user::Entity>(Unguarded::Labels)
            .filter(user::Column::PersonId.eq(person_id))
            .one(&self.db)
            .await?
            .map(|u| u.username))
    }

    /// The member's own record; 404 until staff link the account to it.
    pub async fn own_record(&self, actor: &Actor) -> Result<PersonView> {
        let person = self.own_person(&self.db, actor).await?;
        let mut view = self.person_view(&self.db, person).await?;
        for field in PERSON_FIELDS.iter().filter(|f| f.staff_only) {
            match field.key {
                "notes" => view.notes = None,
                "tags" => view.tags.clear(),
                other => {
                    return Err(StoreError::Settings(format!(
                        "staff-only field {other} is not left out of a member's record"
                    )));
                }
            }
        }
        Ok(view)
    }

    /// Records the member's proposed changes, one proposal per field that differs from the
    /// record. A pending proposal for the same field is withdrawn in favour of the new one.
    pub async fn propose_changes(
        &self,
        actor: &Actor,
        now: Timestamp,
        changes: &[ProposedChange],
    ) -> Result<Vec<ProposalView>> {
        let tx = self.begin_write().await?;
        let person = self.own_person(&tx, actor).await?;
        let user_id = actor.user_id().ok_or(StoreError::Forbidden)?;
        let mut created = Vec::new();
        for change in changes {
            let field = change.field();
            let old_value = field.current(self, &person)?;
            let (shown, stored, phone) = match change {
                ProposedChange::Phone(phone) => {
                    (Some(mask_phone(phone.as_str())), None, Some(phone))
                }
                ProposedChange::Text(_, text) => (text.clone(), text.clone(), None),
            };
            let unchanged = match change {
                ProposedChange::Phone(phone) => {
                    self.sealed_value(&person, SensitiveField::Phone)?
                        .as_deref()
                        == Some(phone.as_str())
                }
                ProposedChange::Text(_, _) => old_value == shown,
            };
            if unchanged {
                continue;
            }
            access::update_rows::<person_proposal::Entity>(Unguarded::PartsOf)
                .col_expr(
                    person_proposal::Column::Status,
                    ProposalStatus::Withdrawn.key().into(),
                )
                .filter(person_proposal::Column::PersonId.eq(person.id))
                .filter(person_proposal::Column::Field.eq(field.key()))
                .filter(person_proposal::Column::Status.eq(ProposalStatus::Pending.key()))
                .exec(&tx)
                .await?;
            let proposal = person_proposal::ActiveModel {
                person_id: Set(person.id),
                proposed_by: Set(user_id),
                proposer_name: Set(actor.username().to_owned()),
                field: Set(field.key().to_owned()),
                old_value: Set(old_value),
                new_value: Set(stored),
                status: Set(ProposalStatus::Pending.key().to_owned()),
                created_at: Set(now.micros()),
                ..Default::default()
            }
            .insert(&tx)
            .await?;
            // A phone is sealed once the row has its id: sealed values are bound to their row.
            let proposal = match phone {
                Some(phone) => {
                    let sealed = self
                        .keys
                        .seal(proposed_value_at(proposal.id), phone.as_str());
                    person_proposal::ActiveModel {
                        id: Set(proposal.id),
                        new_value: Set(Some(sealed)),
                        ..Default::default()
                    }
                    .update(&tx)
                    .await?
                }
                None => proposal,
            };
            created.push(self.proposal_view(proposal, &person.name)?);
        }
        if created.is_empty() {
            return Err(Invalid::new(Field::Named("changes"), Reason::Required).into());
        }
        let awaiting = notifications::Event::new(
            "proposal.awaiting",
            format!("person:{}", person.id),
            "/proposals".to_owned(),
            json!({ "person": person.name, "fields": created.len() }),
            notifications::Recipients::StaffOf(person.unit_id),
        );
        notifications::raise(&tx, now, &awaiting).await?;
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("person.proposal")
                .target("person", person.id, &person.name)
                .unit(&person.unit_path)
                .detail(json!({
                    "fields": created.iter().map(|p| p.field.key()).collect::<Vec<_>>(),
                })),
        )
        .await?;
        tx.commit().await?;
        Ok(created)
    }

    /// The member's own proposals, newest first.
    pub async fn own_proposals(&self, actor: &Actor) -> Result<Vec<ProposalView>> {
        let person = self.own_person(&self.db, actor).await?;
        access::visible::<person_proposal::Entity>(actor)
            .filter(person_proposal::Column::PersonId.eq(person.id))
            .order_by_desc(person_proposal::Column::Id)
            .limit(LIST_LIMIT)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|p| self.proposal_view(p, &person.name))
            .collect()
    }

    /// Proposals about people of the actor's subtree, oldest first (the queue order).
    /// How many proposals of the actor's subtree await a decision, counted up to the lists'
    /// cap.
    pub async fn pending_proposals(&self, actor: &Actor) -> Result<Total> {
        actor.require_staff_area()?;
        let pending = access::visible::<person_proposal::Entity>(actor)
            .filter(person_proposal::Column::Status.eq(ProposalStatus::Pending.key()));
        capped_count(pending, &self.db).await
    }

    pub async fn proposals(
        &self,
        actor: &Actor,
        query: &ProposalQuery,
    ) -> Result<Vec<ProposalView>> {
        actor.require_staff_area()?;
        let mut select = access::visible::<person_proposal::Entity>(actor);
        if let Some(status) = query.status {
            select = select.filter(person_proposal::Column::Status.eq(status.key()));
        }
        if let Some(person_id) = query.person_id {
            select = select.filter(person_proposal::Column::PersonId.eq(person_id));
        }
        let proposals = select
            .order_by_asc(person_proposal::Column::Id)
            .limit(LIST_LIMIT)
            .all(&self.db)
            .await?;
        let names: HashMap<i64, String> = access::unguarded::<person::Entity>(Unguarded::Labels)
            .filter(person::Column::Id.is_in(proposals.iter().map(|p| p.person_id)))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|p| (p.id, p.name))
            .collect();
        proposals
            .into_iter()
            .map(|p| {
                let name = names.get(&p.person_id).cloned().unwrap_or_default();
                self.proposal_view(p, &name)
            })
            .collect()
    }

    /// Approves (applying the change to the record, with history) or rejects one pending
    /// proposal about a person of the actor's subtree.
    pub async fn decide_proposal(
        &self,
        actor: &Actor,
        now: Timestamp,
        id: i64,
        decision: Decision,
    ) -> Result<ProposalView> {
        actor.require_editor()?;
        let tx = self.begin_write().await?;
        let proposal = access::find_to_change::<person_proposal::Entity, _>(&tx, actor, id).await?;
        let person = self.find_person(&tx, actor, proposal.person_id).await?;
        if proposal.status != ProposalStatus::Pending.key() {
            return Err(Invalid::new(Field::Named("proposal"), Reason::AlreadyDecided).into());
        }
        let field = ProposalField::parse(&proposal.field).ok_or_else(|| StoreError::Corrupt {
            what: format!("proposal field {:?}", proposal.field),
        })?;
        let told = match &decision {
            Decision::Approve => "proposal.approved",
            Decision::Reject { .. } => "proposal.rejected",
        };
        let reason_told = match &decision {
            Decision::Approve => None,
            Decision::Reject { reason } => reason.clone(),
        };
        let decided_event = notifications::Event::new(
            told,
            format!("proposal:{id}"),
            "/my-record".to_owned(),
            json!({ "reason": reason_told }),
            notifications::Recipients::People(vec![person.id]),
        );
        notifications::raise(&tx, now, &decided_event).await?;
        let (status, reason, action) = match &decision {
            Decision::Approve => {
                self.apply_proposal(&tx, actor, now, &person, field, &proposal)
                    .await?;
                (ProposalStatus::Approved, None, "person.proposal.approve")
            }
            Decision::Reject { reason } => (
                ProposalStatus::Rejected,
                reason.clone(),
                "person.proposal.reject",
            ),
        };
        let decided = person_proposal::ActiveModel {
            id: Set(id),
            status: Set(status.key().to_owned()),
            decided_by: Set(Some(actor.username().to_owned())),
            decided_at: Set(Some(now.micros())),
            reason: Set(reason),
            ..Default::default()
        }
        .update(&tx)
        .await?;
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new(action)
                .target("person", person.id, &person.name)
                .unit(&person.unit_path)
                .detail(json!({ "proposal": id, "field": field.key() })),
        )
        .await?;
        let view = self.proposal_view(decided, &person.name)?;
        tx.commit().await?;
        Ok(view)
    }

    /// Writes an approved change into the record, as a new version with its history.
    async fn apply_proposal<C: ConnectionTrait>(
        &self,
        conn: &C,
        actor: &Actor,
        now: Timestamp,
        person: &person::Model,
        field: ProposalField,
        proposal: &person_proposal::Model,
    ) -> Result<()> {
        let before = self.snapshot(conn, person).await?;
        let version = person.version + 1;
        let mut update = person::ActiveModel {
            id: Set(person.id),
            version: Set(version),
            updated_at: Set(now.micros()),
            ..Default::default()
        };
        let value = proposal.new_value.clone();
        match field {
            ProposalField::Phone => {
                let phone = value
                    .map(|sealed| self.keys.open(proposed_value_at(proposal.id), &sealed))
                    .transpose()
                    .map_err(StoreError::from)?
                    .map(|plain| MobilePhone::parse(&plain))
                    .transpose()?;
                update.phone_sealed = Set(phone.as_ref().map(|p| {
                    self.keys
                        .seal(SensitiveField::Phone.sealed_at(person.id), p.as_str())
                }));
                update.phone_index = Set(phone
                    .as_ref()
                    .map(|p| self.keys.blind_index("phone", p.as_str())));
                update.phone_tail_index = Set(phone
                    .as_ref()
                    .map(|p| self.keys.blind_index("phone_tail", p.last_four())));
            }
            ProposalField::Address => update.address = Set(value),
            ProposalField::Employer => update.employer = Set(value),
            ProposalField::Title => update.title = Set(value),
            ProposalField::Occupation => update.occupation = Set(value),
            ProposalField::Education => update.education = Set(value),
            ProposalField::PoliticalAffiliation => update.political_affiliation = Set(value),
        }
        let updated = update.update(conn).await?;
        let after = self.snapshot(conn, &updated).await?;
        let author = Author {
            name: actor.username(),
            proposed_by: Some(&proposal.proposer_name),
        };
        record_history(conn, person.id, version, now, author, &before, &after).await?;
        Ok(())
    }

    /// The member's own person record.
    pub(crate) async fn own_person<C: ConnectionTrait>(
        &self,
        conn: &C,
        actor: &Actor,
    ) -> Result<person::Model> {
        if actor.role() != Role::Member {
            return Err(StoreError::Forbidden);
        }
        let person_id = actor.person_id().ok_or(StoreError::NotFound)?;
        access::find::<person::Entity, _>(conn, actor, person_id).await
    }

    fn proposal_view(&self, p: person_proposal::Model, person_name: &str) -> Result<ProposalView> {
        let field = ProposalField::parse(&p.field).unwrap_or(ProposalField::Address);
        let new_value = match (field, p.new_value) {
            (ProposalField::Phone, Some(sealed)) => Some(mask_phone(
                &self
                    .keys
                    .open(proposed_value_at(p.id), &sealed)
                    .map_err(StoreError::from)?,
            )),
            (_, value) => value,
        };
        Ok(ProposalView {
            id: p.id,
            person_id: p.person_id,
            person_name: person_name.to_owned(),
            field,
            old_value: p.old_value,
            new_value,
            status: ProposalStatus::parse(&p.status).unwrap_or(ProposalStatus::Pending),
            proposer_name: p.proposer_name,
            proposed_at: Timestamp::from_micros(p.created_at),
            decided_by: p.decided_by,
            decided_at: p.decided_at.map(Timestamp::from_micros),
            reason: p.reason,
        })
    }
}

/// Where a proposal's sealed value (a phone number) is stored.
pub(crate) fn proposed_value_at(id: i64) -> SealedAt<'static> {
    SealedAt {
        column: "person_proposals.new_value",
        row: id,
    }
}

#[cfg(test)]
mod tests {
    use super::ProposalField;
    use tongxin_core::PERSON_FIELDS;

    #[test]
    fn members_propose_the_fields_the_person_fields_list_marks() {
        let mut marked: Vec<&str> = PERSON_FIELDS
            .iter()
            .filter(|f| f.proposable)
            .map(|f| f.key)
            .collect();
        let mut proposable: Vec<&str> = ProposalField::ALL.iter().map(|f| f.key()).collect();
        marked.sort_unstable();
        proposable.sort_unstable();
        assert_eq!(proposable, marked);
    }
}
