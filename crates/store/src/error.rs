use thiserror::Error;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Storage errors. Unique violations are told apart so the HTTP layer can answer 409
/// naming the field; everything else is an internal error. A database error is never
/// turned into "not found".
#[derive(Debug, Error)]
pub enum Error {
    /// A unique constraint refused the write; the string names the constraint or columns.
    #[error("unique constraint violated: {0}")]
    Unique(String),
    /// Text the database cannot store (PostgreSQL refuses NUL characters).
    #[error("text contains characters the database cannot store")]
    InvalidText,
    #[error(transparent)]
    Db(sqlx::Error),
    /// A workspace's region is not configured (anymore): its data cannot be reached.
    #[error("region `{0}` is not configured")]
    RegionUnavailable(String),
    #[error("migration {version} failed: {source}")]
    Migration { version: i64, source: sqlx::Error },
}

impl Error {
    /// Whether this is a unique violation whose constraint or column list mentions `needle`.
    pub fn is_unique_on(&self, needle: &str) -> bool {
        matches!(self, Error::Unique(what) if what.contains(needle))
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        if let Some(db) = e.as_database_error() {
            // 22021: character_not_in_repertoire (a NUL byte in a text value).
            if db.code().as_deref() == Some("22021") {
                return Error::InvalidText;
            }
            if db.is_unique_violation() {
                // Postgres names the constraint; SQLite lists the columns in its message.
                let what = db.constraint().map(str::to_owned).unwrap_or_else(|| db.message().to_owned());
                return Error::Unique(what);
            }
        }
        Error::Db(e)
    }
}
