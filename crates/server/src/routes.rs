//! The route table: every route is registered with the access it needs, in one place.
//!
//! [`Routes::add`] records `(method, path, access)` and attaches the access to the route,
//! where the auth extractors read it. A handler therefore cannot run under a different
//! permission than the table says, and `tests/route_table.rs` fails when a route is
//! missing from its expected list.

use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::{Extension, Router};
use callplane_domain::Permission;

use crate::state::AppState;

/// What a route requires of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (sign-up, sign-in, health, documentation).
    Public,
    /// Any signed-in principal; nothing workspace-specific.
    Authenticated,
    /// A permission at account level (creating workspaces: W1).
    Account(Permission),
    /// A permission in the workspace the request names; refused while it is inactive (W4).
    Workspace(Permission),
    /// As `Workspace`, but also while inactive: viewing, editing (to reactivate) and deleting it.
    WorkspaceAnyStatus(Permission),
}

impl Access {
    pub fn permission(self) -> Option<Permission> {
        match self {
            Access::Account(p) | Access::Workspace(p) | Access::WorkspaceAnyStatus(p) => Some(p),
            Access::Public | Access::Authenticated => None,
        }
    }
}

/// One row of the route table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInfo {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
}

/// A router under construction together with its table.
pub struct Routes {
    router: Router<AppState>,
    table: Vec<RouteInfo>,
}

impl Default for Routes {
    fn default() -> Self {
        Self::new()
    }
}

impl Routes {
    pub fn new() -> Self {
        Self { router: Router::new(), table: Vec::new() }
    }

    /// Registers `handler` for `method path`, requiring `access`.
    pub fn add<H, T>(self, method: Method, path: &'static str, access: Access, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let route = on(filter(&method), handler).layer(Extension(access));
        self.push(method, path, access, route)
    }

    /// A route whose handler streams its body and bounds it itself (a file upload), so
    /// `server.max_body_bytes` does not apply to it.
    pub fn add_streamed<H, T>(self, method: Method, path: &'static str, access: Access, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let route: MethodRouter<AppState> = on(filter(&method), handler).layer(DefaultBodyLimit::disable());
        let route = route.layer(Extension(access));
        self.push(method, path, access, route)
    }

    fn push(mut self, method: Method, path: &'static str, access: Access, route: MethodRouter<AppState>) -> Self {
        self.router = self.router.route(path, route);
        self.table.push(RouteInfo { method, path, access });
        self
    }

    pub fn merge(mut self, other: Routes) -> Self {
        self.router = self.router.merge(other.router);
        self.table.extend(other.table);
        self
    }

    pub fn into_parts(self) -> (Router<AppState>, Vec<RouteInfo>) {
        (self.router, self.table)
    }

    pub fn map_router(mut self, f: impl FnOnce(Router<AppState>) -> Router<AppState>) -> Self {
        self.router = f(self.router);
        self
    }
}

fn filter(method: &Method) -> MethodFilter {
    MethodFilter::try_from(method.clone()).expect("a standard method")
}
