//! The score configs' statements, written once for both dialects, and [`ScoreConfigs`]
//! implemented once for every backend that can run them (an [`Executor`]).
//!
//! Categories are stored as JSON text. A patch is a compare-and-set on the row's `revision`:
//! read, check the patched config as a whole, write only if no other patch came in between
//! (else read again), so two patches each valid alone cannot store an invalid pair of values.

use async_trait::async_trait;
use serde_json::{json, Value};
use spindle_core::score_config::{
    ConfigCategory, ConfigDataType, NewScoreConfig, ScoreConfig, ScoreConfigPatch,
};
use spindle_core::Error;

use crate::datasets::PageRequest;
use crate::datasets_sql::{count_rows, paged};
use crate::executor::{columns_and_codec, first, Executor, ToRow};
use crate::score_configs::ScoreConfigs;
use crate::sql::Sql;
use crate::statements::{insert, qualified};
use crate::{new_uuid, now_micros, Page, Result};

/// A `score_configs` row.
struct ConfigRow {
    id: String,
    project_id: String,
    name: String,
    data_type: String,
    is_archived: bool,
    min_value: Option<f64>,
    max_value: Option<f64>,
    categories: Option<String>,
    description: Option<String>,
    revision: i64,
    created_at: i64,
    updated_at: i64,
}

columns_and_codec!(CONFIG_COLUMNS => ConfigRow {
    id: text,
    project_id: text,
    name: text,
    data_type: text,
    is_archived: boolean,
    min_value: opt_float,
    max_value: opt_float,
    categories: opt_text,
    description: opt_text,
    revision: int,
    created_at: int,
    updated_at: int,
});

/// Categories as stored: a JSON array of `{label, value}`, NULL when there are none.
fn categories_text(categories: &[ConfigCategory]) -> Option<String> {
    if categories.is_empty() {
        return None;
    }
    let list: Vec<Value> = categories
        .iter()
        .map(|category| json!({"label": category.label, "value": category.value}))
        .collect();
    Some(Value::Array(list).to_string())
}

fn parse_categories(id: &str, text: Option<&str>) -> Result<Vec<ConfigCategory>> {
    let Some(text) = text else {
        return Ok(Vec::new());
    };
    let corrupt = || Error::internal(format!("score config {id:?}: unreadable categories"));
    let list: Vec<Value> = serde_json::from_str(text).map_err(|_| corrupt())?;
    list.iter()
        .map(|item| {
            Some(ConfigCategory {
                label: item.get("label")?.as_str()?.to_owned(),
                value: item.get("value")?.as_f64()?,
            })
        })
        .collect::<Option<Vec<_>>>()
        .ok_or_else(corrupt)
}

impl ConfigRow {
    fn into_config(self) -> Result<(ScoreConfig, i64)> {
        let data_type = ConfigDataType::parse(&self.data_type).ok_or_else(|| {
            Error::internal(format!(
                "score config {:?}: unknown data type {:?}",
                self.id, self.data_type
            ))
        })?;
        let categories = parse_categories(&self.id, self.categories.as_deref())?;
        let config = ScoreConfig {
            id: self.id,
            project_id: self.project_id,
            name: self.name,
            data_type,
            is_archived: self.is_archived,
            min_value: self.min_value,
            max_value: self.max_value,
            categories,
            description: self.description,
            created_at: self.created_at,
            updated_at: self.updated_at,
        };
        Ok((config, self.revision))
    }
}

fn select_configs(db: &impl Executor, project_id: &str) -> Sql {
    let mut sql = Sql::new(
        db.dialect(),
        &format!(
            "SELECT {} FROM score_configs c WHERE c.project_id = ",
            qualified("c", CONFIG_COLUMNS)
        ),
    );
    sql.bind(project_id);
    sql
}

/// The stored config `id` with its revision.
async fn config_with_revision(
    db: &impl Executor,
    project_id: &str,
    id: &str,
) -> Result<Option<(ScoreConfig, i64)>> {
    let mut sql = select_configs(db, project_id);
    sql.push(" AND c.id = ").bind(id);
    first::<ConfigRow>(db, sql)
        .await?
        .map(ConfigRow::into_config)
        .transpose()
}

/// How often a patch reads again after another patch of the same config came in between.
const PATCH_ATTEMPTS: usize = 32;

#[async_trait]
impl<E: Executor> ScoreConfigs for E {
    async fn create_score_config(
        &self,
        project_id: &str,
        config: &NewScoreConfig,
    ) -> Result<ScoreConfig> {
        let config = config.clone().checked()?;
        let now = now_micros();
        let row = ConfigRow {
            id: new_uuid(),
            project_id: project_id.to_owned(),
            name: config.name.clone(),
            data_type: config.data_type.as_str().to_owned(),
            is_archived: false,
            min_value: config.min_value,
            max_value: config.max_value,
            categories: categories_text(&config.categories),
            description: config.description.clone(),
            revision: 0,
            created_at: now,
            updated_at: now,
        };
        let id = row.id.clone();
        self.modify(vec![insert(
            self.dialect(),
            "score_configs",
            CONFIG_COLUMNS,
            row.values(),
        )])
        .await?;
        Ok(row.into_config()?.0).inspect(|stored: &ScoreConfig| debug_assert_eq!(stored.id, id))
    }

    async fn get_score_config(&self, project_id: &str, id: &str) -> Result<Option<ScoreConfig>> {
        Ok(config_with_revision(self, project_id, id)
            .await?
            .map(|(config, _)| config))
    }

    async fn list_score_configs(
        &self,
        project_id: &str,
        page: PageRequest,
    ) -> Result<Page<ScoreConfig>> {
        let rows = select_configs(self, project_id);
        let count = count_rows(self.dialect(), "score_configs", "c", project_id);
        let page: Page<ConfigRow> = paged(self, rows, count, "c", page).await?;
        page.try_map(|row| row.into_config().map(|(config, _)| config))
    }

    async fn score_configs_by_ids(
        &self,
        project_id: &str,
        ids: &[String],
    ) -> Result<Vec<ScoreConfig>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = select_configs(self, project_id);
        sql.push(" AND ");
        sql.in_list("c.id", ids.to_vec(), false);
        let rows: Vec<ConfigRow> = self.select(sql).await?;
        rows.into_iter()
            .map(|row| row.into_config().map(|(config, _)| config))
            .collect()
    }

    async fn update_score_config(
        &self,
        project_id: &str,
        id: &str,
        patch: &ScoreConfigPatch,
    ) -> Result<Option<ScoreConfig>> {
        for _ in 0..PATCH_ATTEMPTS {
            let Some((stored, revision)) = config_with_revision(self, project_id, id).await? else {
                return Ok(None);
            };
            let mut next = stored.patched(patch)?;
            next.updated_at = now_micros().max(stored.updated_at);
            let mut sql = Sql::new(self.dialect(), "UPDATE score_configs SET name = ");
            sql.bind(next.name.as_str())
                .push(", is_archived = ")
                .bind(next.is_archived)
                .push(", min_value = ")
                .bind(next.min_value)
                .push(", max_value = ")
                .bind(next.max_value)
                .push(", categories = ")
                .bind(categories_text(&next.categories))
                .push(", description = ")
                .bind(next.description.clone())
                .push(", updated_at = ")
                .bind(next.updated_at)
                .push(", revision = ")
                .bind(revision + 1)
                .push(" WHERE project_id = ")
                .bind(project_id)
                .push(" AND id = ")
                .bind(id)
                .push(" AND revision = ")
                .bind(revision);
            let changed = self.modify(vec![sql]).await?;
            if changed.first().copied().unwrap_or(0) > 0 {
                return Ok(Some(next));
            }
        }
        Err(Error::new(
            spindle_core::ErrorKind::Unavailable,
            format!("score config {id:?}: too many concurrent updates; retry"),
        ))
    }
}
