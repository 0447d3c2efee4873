//! The study-material library: documents uploaded by units, repaired of converter damage,
//! searchable by their text in either script, attached to campaigns and activities.

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, Order, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::json;
use tongxin_core::{Field, Invalid, Reason, Timestamp, parse_name};
use tongxin_text::document::{DocumentError, DocumentKind, DocumentLimits, extract_text};
use tongxin_text::repair::repair_converted;
use tongxin_text::script::{Script, to_script};

use crate::Store;
use crate::access::{self, Actor, Unguarded, filing_unit};
use crate::audit::{self, Event};
use crate::entity::{attachment, material, unit};
use crate::error::{Result, StoreError};
use crate::like;
use crate::page::{Page, PageRequest, Walk, along, capped_count};
use crate::units::unit_names;

/// Largest material accepted, in MiB.
pub const MAX_MATERIAL_MIB: u64 = 10;

/// A document to add to the library.
#[derive(Debug, Clone)]
pub struct MaterialUpload {
    pub unit_id: i64,
    /// The title; the file name without its extension when empty.
    pub title: String,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// A material as listed and shown.
#[derive(Debug, Clone)]
pub struct MaterialView {
    pub id: i64,
    pub unit_id: i64,
    pub unit_name: String,
    pub title: String,
    pub file_name: String,
    pub kind: String,
    pub repairs: i32,
    pub chars: usize,
    pub created_at: Timestamp,
    pub archived: bool,
}

/// What importing a document did.
#[derive(Debug, Clone)]
pub struct MaterialImport {
    pub material: MaterialView,
    /// Excerpts where characters were lost before the file reached us.
    pub suspects: Vec<String>,
}

fn refusal(e: DocumentError) -> Invalid {
    let field = Field::Named("file");
    let reason = match e {
        DocumentError::TooLarge { .. } => Reason::FileTooLarge {
            max_mib: MAX_MATERIAL_MIB,
        },
        DocumentError::UnknownKind => Reason::UnknownFileKind,
        DocumentError::NotZip => Reason::NotADocx,
        DocumentError::ZipBomb { .. } => Reason::ZipBomb,
        DocumentError::ContentMismatch { .. } => Reason::ContentMismatch,
        DocumentError::BadDocx(_) | DocumentError::Unreadable => Reason::Unreadable,
    };
    Invalid::new(field, reason)
}

fn view(m: material::Model, unit_name: String) -> MaterialView {
    MaterialView {
        id: m.id,
        unit_id: m.unit_id,
        unit_name,
        chars: m.body.chars().count(),
        title: m.title,
        file_name: m.file_name,
        kind: m.kind,
        repairs: m.repairs,
        created_at: Timestamp(m.created_at),
        archived: m.archived_at.is_some(),
    }
}

/// Filters of the material library.
#[derive(Debug, Clone, Default)]
pub struct MaterialQuery {
    /// Words of the title or text, in either script.
    pub q: Option<String>,
    /// Only this unit's subtree (within the actor's).
    pub unit_id: Option<i64>,
    /// The oldest first instead of the newest.
    pub reversed: bool,
}

/// How a page of the library is read: newest first along the creation order, or through the
/// subtree's index when it holds few materials.
pub(crate) const MATERIAL_WALK: Walk = Walk {
    table: "materials",
    order: "idx_materials_created_order",
    subtree: "idx_materials_unit_path",
};

impl Store {
    /// Reads, repairs and stores a document. Nothing is written if it cannot be read.
    pub async fn import_material(
        &self,
        actor: &Actor,
        now: Timestamp,
        upload: &MaterialUpload,
    ) -> Result<MaterialImport> {
        actor.require_editor()?;
        let kind = DocumentKind::from_name(&upload.file_name)
            .ok_or_else(|| refusal(DocumentError::UnknownKind))?;
        let limits = DocumentLimits {
            max_bytes: usize::try_from(MAX_MATERIAL_MIB * 1024 * 1024).unwrap_or(usize::MAX),
            ..DocumentLimits::default()
        };
        let text = extract_text(&upload.bytes, kind, &limits).map_err(refusal)?;
        let repaired = repair_converted(&text);
        if repaired.text.trim().is_empty() {
            return Err(Invalid::new(Field::Named("file"), Reason::Required).into());
        }
        let title = match upload.title.trim() {
            "" => upload
                .file_name
                .rsplit_once('.')
                .map_or(upload.file_name.as_str(), |(stem, _)| stem)
                .to_owned(),
            t => t.to_owned(),
        };
        let title = parse_name(Field::Named("material_title"), &title)?;
        let simplified = to_script(&repaired.text, Script::Simplified);
        let tx = self.begin_write().await?;
        let unit = filing_unit(&tx, actor, upload.unit_id, Field::Unit).await?;
        let media_type = match kind {
            DocumentKind::Text => "text/plain",
            DocumentKind::Html => "text/html",
            DocumentKind::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
        };
        let attachment_id = self
            .store_attachment(&tx, now, media_type, &upload.bytes)
            .await?;
        let created = material::ActiveModel {
            unit_id: Set(unit.id),
            unit_path: Set(unit.path.clone()),
            title: Set(title),
            file_name: Set(upload.file_name.chars().take(200).collect()),
            kind: Set(kind.key().to_owned()),
            attachment_id: Set(attachment_id),
            body: Set(repaired.text),
            body_simplified: Set(simplified),
            repairs: Set(i32::try_from(repaired.repairs).unwrap_or(i32::MAX)),
            archived_at: Set(None),
            created_at: Set(now.micros()),
            ..Default::default()
        }
        .insert(&tx)
        .await?;
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("material.create")
                .target("material", created.id, &created.title)
                .unit(&created.unit_path)
                .detail(json!({ "repairs": created.repairs, "suspects": repaired.suspects.len() })),
        )
        .await?;
        tx.commit().await?;
        Ok(MaterialImport {
            material: view(created, unit.name),
            suspects: repaired.suspects,
        })
    }

    /// Materials of the actor's subtree, the newest first; `q` searches titles and full text in
    /// either script.
    pub async fn materials(
        &self,
        actor: &Actor,
        query: &MaterialQuery,
        page: PageRequest,
    ) -> Result<Page<MaterialView>> {
        actor.require_staff_area()?;
        let mut select = access::visible::<material::Entity>(actor)
            .filter(material::Column::ArchivedAt.is_null());
        if let Some(unit_id) = query.unit_id {
            let path = self.subtree_of(actor, unit_id).await?;
            select = select
                .filter(material::Column::UnitPath.gte(path.as_str()))
                .filter(material::Column::UnitPath.lt(path.upper_bound()));
        }
        if let Some(q) = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            let simplified = to_script(q, Script::Simplified);
            select = select.filter(
                Condition::any()
                    .add(like::contains(material::Column::Title, q))
                    .add(like::contains(
                        material::Column::BodySimplified,
                        &simplified,
                    )),
            );
        }
        let total = capped_count(select.clone(), &self.db).await?;
        let ordered = select
            .order_by(
                material::Column::CreatedAt,
                along(Order::Desc, query.reversed),
            )
            .order_by(material::Column::Id, along(Order::Desc, query.reversed))
            .offset(page.offset())
            .limit(page.per_page);
        let statement = MATERIAL_WALK.statement(ordered.clone(), total, self.engine());
        let rows = ordered.from_raw_sql(statement).all(&self.db).await?;
        let units = unit_names(&self.db, rows.iter().map(|r| r.unit_id)).await?;
        Ok(Page {
            items: rows
                .into_iter()
                .map(|m| {
                    let unit_name = units.get(&m.unit_id).cloned().unwrap_or_default();
                    view(m, unit_name)
                })
                .collect(),
            total,
            page: page.page,
            per_page: page.per_page,
        })
    }

    /// One material and its text in the script asked for.
    pub async fn material(
        &self,
        actor: &Actor,
        id: i64,
        script: Script,
    ) -> Result<(MaterialView, String)> {
        actor.require_staff_area()?;
        let m = access::find::<material::Entity, _>(&self.db, actor, id).await?;
        let text = match script {
            Script::Simplified => m.body_simplified.clone(),
            Script::Traditional => to_script(&m.body, Script::Traditional),
        };
        let unit_name = access::unguarded_by_id::<unit::Entity>(Unguarded::Labels, m.unit_id)
            .one(&self.db)
            .await?
            .map(|u| u.name)
            .unwrap_or_default();
        let mut shown = view(m, unit_name);
        if script == Script::Traditional {
            shown.title = to_script(&shown.title, Script::Traditional);
        }
        Ok((shown, text))
    }

    /// The uploaded file of a material: (file name, media type, bytes).
    pub async fn material_file(&self, actor: &Actor, id: i64) -> Result<(String, String, Vec<u8>)> {
        actor.require_staff_area()?;
        let m = access::find::<material::Entity, _>(&self.db, actor, id).await?;
        let file =
            access::unguarded_by_id::<attachment::Entity>(Unguarded::PartsOf, m.attachment_id)
                .one(&self.db)
                .await?
                .ok_or(StoreError::NotFound)?;
        Ok((m.file_name, file.media_type, file.bytes))
    }

    /// The (id, title) of some materials, by title: what an activity or campaign links to.
    pub(crate) async fn material_titles(
        &self,
        ids: impl Iterator<Item = i64>,
    ) -> Result<Vec<(i64, String)>> {
        Ok(access::unguarded::<material::Entity>(Unguarded::Labels)
            .select_only()
            .column(material::Column::Id)
            .column(material::Column::Title)
            .filter(material::Column::Id.is_in(ids.collect::<Vec<_>>()))
            .order_by_asc(material::Column::Title)
            .into_tuple()
            .all(&self.db)
            .await?)
    }

    /// Every material of the actor's subtree as (id, title), for attaching.
    pub async fn material_choices(&self, actor: &Actor) -> Result<Vec<(i64, String)>> {
        actor.require_staff_area()?;
        Ok(access::visible::<material::Entity>(actor)
            .select_only()
            .column(material::Column::Id)
            .column(material::Column::Title)
            .filter(material::Column::ArchivedAt.is_null())
            .order_by_asc(material::Column::Title)
            .limit(500)
            .into_tuple()
            .all(&self.db)
            .await?)
    }
}
