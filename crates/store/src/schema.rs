//! The schema's tenancy rules, checked against a real database.
//!
//! Every table belongs to exactly one migration set. Product tables (region databases)
//! keep tenancy by construction: the primary key leads with `workspace_id`, the table
//! cascades from `workspace_anchors` (so a purge removes the workspace's rows), and
//! every foreign key carries `workspace_id` to the parent's `workspace_id` (a row
//! cannot point into another workspace: SPEC I2). The schema test runs [`violations`]
//! on both backends and on a deliberately wrong table.

use crate::db::{Db, Raw};
use crate::error::Result;
use crate::migrate::Set;

/// Tables of the control database (accounts and their people, the workspace registry,
/// access, email).
pub const CONTROL_TABLES: &[&str] = &[
    "callplane_migrations",
    "accounts",
    "users",
    "account_users",
    "workspaces",
    "memberships",
    "sessions",
    "audit_events",
    "roles",
    "invitations",
    "api_keys",
    "emails",
    "password_tokens",
    "login_failures",
    "carrier_allocations",
    "telephony_catalogs",
    "wallets",
    "wallet_holds",
    "wallet_entries",
];

/// Tables of a region database (the product data of its workspaces).
pub const PRODUCT_TABLES: &[&str] = &[
    "callplane_product_migrations",
    "workspace_anchors",
    "agents",
    "phone_numbers",
    "product_audit_events",
    "contacts",
    "contact_tags",
    "contact_imports",
    "contact_import_chunks",
    "contact_import_errors",
    "workspace_settings",
    "analysis_templates",
    "templates",
    "appointments",
    "telephony_settings",
    "network_group_settings",
    "calls",
    "call_events",
    "call_artifacts",
    "webhook_endpoints",
    "webhook_events",
    "webhook_deliveries",
    "webhook_attempts",
    "webhook_queue",
    "campaigns",
    "campaign_numbers",
    "campaign_targets",
    "call_rollups",
    "sip_trunks",
    "call_recordings",
];

/// Search indexes of a region database: SQLite virtual tables over a product table's
/// rows (their own shadow tables hold nothing else). They have no keys of their own;
/// every query reaching them joins back to the product table's workspace-scoped rows.
pub const PRODUCT_SEARCH_INDEXES: &[&str] = &["contact_search"];

const ANCHORS: &str = "workspace_anchors";

#[derive(Debug, Clone)]
pub struct ForeignKey {
    pub columns: Vec<String>,
    pub parent: String,
    pub parent_columns: Vec<String>,
    pub cascades: bool,
}

#[derive(Debug, Clone)]
pub struct Table {
    pub name: String,
    pub primary_key: Vec<String>,
    pub foreign_keys: Vec<ForeignKey>,
}

/// Every table of the database, with its primary key and foreign keys.
pub async fn inspect(db: &Db) -> Result<Vec<Table>> {
    let mut conn = db.conn().await?;
    let names: Vec<String> = on!(&mut conn, |c| sqlx::query_scalar(if db.is_postgres() {
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1"
    } else {
        // Ordinary and virtual tables; a virtual table's shadow tables are its own.
        "SELECT name FROM pragma_table_list
         WHERE schema = 'main' AND type IN ('table', 'virtual') AND name NOT LIKE 'sqlite_%' ORDER BY 1"
    })
    .fetch_all(c)
    .await)?;
    let mut tables = Vec::new();
    for name in names {
        let (primary_key, foreign_keys) = if conn.is_postgres() {
            (pg_primary_key(&mut conn, &name).await?, pg_foreign_keys(&mut conn, &name).await?)
        } else {
            (sqlite_primary_key(&mut conn, &name).await?, sqlite_foreign_keys(&mut conn, &name).await?)
        };
        tables.push(Table { name, primary_key, foreign_keys });
    }
    Ok(tables)
}

async fn sqlite_primary_key(conn: &mut impl Raw, table: &str) -> Result<Vec<String>> {
    Ok(on!(conn, |c| sqlx::query_scalar("SELECT name FROM pragma_table_info($1) WHERE pk > 0 ORDER BY pk")
        .bind(table)
        .fetch_all(c)
        .await)?)
}

async fn sqlite_foreign_keys(conn: &mut impl Raw, table: &str) -> Result<Vec<ForeignKey>> {
    let rows: Vec<(i64, String, String, Option<String>, String)> = on!(conn, |c| sqlx::query_as(
        "SELECT id, \"table\", \"from\", \"to\", on_delete FROM pragma_foreign_key_list($1) ORDER BY id, seq"
    )
    .bind(table)
    .fetch_all(c)
    .await)?;
    let mut fks: Vec<(i64, ForeignKey)> = Vec::new();
    for (id, parent, from, to, on_delete) in rows {
        if fks.last().is_none_or(|(last, _)| *last != id) {
            let fk = ForeignKey {
                columns: vec![],
                parent,
                parent_columns: vec![],
                cascades: on_delete.eq_ignore_ascii_case("CASCADE"),
            };
            fks.push((id, fk));
        }
        let fk = &mut fks.last_mut().expect("pushed above").1;
        fk.parent_columns.push(to.unwrap_or_else(|| from.clone()));
        fk.columns.push(from);
    }
    Ok(fks.into_iter().map(|(_, fk)| fk).collect())
}

async fn pg_primary_key(conn: &mut impl Raw, table: &str) -> Result<Vec<String>> {
    Ok(on!(conn, |c| sqlx::query_scalar(
        "SELECT a.attname::text FROM pg_index i
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
         WHERE i.indrelid = to_regclass($1) AND i.indisprimary
         ORDER BY array_position(i.indkey::int2[], a.attnum)"
    )
    .bind(table)
    .fetch_all(c)
    .await)?)
}

async fn pg_foreign_keys(conn: &mut impl Raw, table: &str) -> Result<Vec<ForeignKey>> {
    let rows: Vec<(String, String, String, String)> = on!(conn, |c| sqlx::query_as(
        "SELECT p.relname::text, c.confdeltype::text,
                array_to_string(ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, o)
                      JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o), ','),
                array_to_string(ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, o)
                      JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.o), ',')
         FROM pg_constraint c JOIN pg_class p ON p.oid = c.confrelid
         WHERE c.contype = 'f' AND c.conrelid = to_regclass($1)
         ORDER BY c.conname"
    )
    .bind(table)
    .fetch_all(c)
    .await)?;
    Ok(rows
        .into_iter()
        .map(|(parent, del, columns, parent_columns)| ForeignKey {
            columns: columns.split(',').map(str::to_owned).collect(),
            parent,
            parent_columns: parent_columns.split(',').map(str::to_owned).collect(),
            cascades: del == "c",
        })
        .collect())
}

/// Every way the tables of a database holding only `set` break the rules.
pub fn violations(set: Set, tables: &[Table]) -> Vec<String> {
    let (mine, other, other_name) = match set {
        Set::Control => (CONTROL_TABLES, PRODUCT_TABLES, "product"),
        Set::Product => (PRODUCT_TABLES, CONTROL_TABLES, "control"),
    };
    let mut out = Vec::new();
    for t in tables {
        let name = t.name.as_str();
        if PRODUCT_SEARCH_INDEXES.contains(&name) {
            if set != Set::Product {
                out.push(format!("{name}: a product search index in the {set:?} set"));
            }
            continue;
        }
        if other.contains(&name) {
            out.push(format!("{name}: a {other_name} table in the {set:?} set"));
            continue;
        }
        if !mine.contains(&name) {
            out.push(format!("{name}: not declared in schema::{set:?} tables (CONTROL_TABLES / PRODUCT_TABLES)"));
        }
        if set == Set::Product && name != "callplane_product_migrations" {
            out.extend(product_rules(t));
        }
    }
    out
}

fn product_rules(t: &Table) -> Vec<String> {
    let name = &t.name;
    let mut out = Vec::new();
    if t.primary_key.first().map(String::as_str) != Some("workspace_id") {
        out.push(format!("{name}: primary key {:?} does not lead with workspace_id", t.primary_key));
    }
    if name != ANCHORS
        && !t.foreign_keys.iter().any(|fk| fk.parent == ANCHORS && fk.columns == ["workspace_id"] && fk.cascades)
    {
        out.push(format!("{name}: no `workspace_id REFERENCES {ANCHORS} ON DELETE CASCADE`"));
    }
    for fk in &t.foreign_keys {
        let carries_workspace =
            fk.columns.iter().zip(&fk.parent_columns).any(|(from, to)| from == "workspace_id" && to == "workspace_id");
        if !carries_workspace {
            out.push(format!(
                "{name}: foreign key {:?} -> {}{:?} is not composite with workspace_id",
                fk.columns, fk.parent, fk.parent_columns
            ));
        }
    }
    out
}
