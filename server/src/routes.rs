//! Which route a request took, for logs and metrics: the operation and the
//! path template (`/api/v1/org/{org_id}/...`), never the concrete path, so
//! that ids stay out of metric labels.

/// One route of the server.
#[derive(Clone, Debug)]
struct Route {
    method: String,
    template: String,
    /// The template's non-empty segments; `None` for a variable.
    segments: Vec<Option<String>>,
    operation: String,
}

/// The server's routes: the published API's, read from dropshot's document
/// of the trait (so they cannot drift from it), and the unpublished ones.
#[derive(Clone, Debug)]
pub struct Routes {
    routes: Vec<Route>,
}

/// The label of requests that matched no route.
pub const UNMATCHED: &str = "unmatched";

/// A path's non-empty segments, as dropshot's router splits it.
fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|segment| !segment.is_empty())
}

/// The path of a request target, which may be in absolute form
/// (`http://host/path?query`).
fn request_path(target: &str) -> &str {
    // The origin form (`/path?query`), which nearly every request has, needs
    // no search for a scheme.
    let path = if target.starts_with('/') {
        target
    } else {
        match target.split_once("://") {
            Some((_, rest)) => rest.find('/').map_or("", |start| &rest[start..]),
            None => target,
        }
    };
    path.split('?').next().unwrap_or_default()
}

impl Route {
    fn new(method: &str, template: &str, operation: &str) -> Route {
        Route {
            method: method.to_uppercase(),
            template: template.to_owned(),
            segments: segments(template)
                .map(|segment| (!segment.starts_with('{')).then(|| segment.to_owned()))
                .collect(),
            operation: operation.to_owned(),
        }
    }
}

impl Routes {
    /// The routes of the API trait and the unpublished ones of the server.
    pub fn of_api() -> Routes {
        let document = crate::api::openapi_document();
        let mut routes = Vec::new();
        for (template, item) in document["paths"].as_object().into_iter().flatten() {
            for (method, operation) in item.as_object().into_iter().flatten() {
                if let Some(operation) = operation["operationId"].as_str() {
                    routes.push(Route::new(method, template, operation));
                }
            }
        }
        // The unpublished routes have no variables: their path is their name.
        routes.extend(
            crate::server::unpublished_endpoints()
                .iter()
                .map(|endpoint| {
                    let path = &endpoint.path;
                    Route::new(endpoint.method.as_str(), path, path.trim_start_matches('/'))
                }),
        );
        Routes { routes }
    }

    /// The operation and template of a request; [`UNMATCHED`] for both when
    /// it matched no route, so that the set of labels stays bounded whatever
    /// paths clients send.
    pub fn label(&self, method: &str, uri: &str) -> (&str, &str) {
        // Split once: every request is labelled, against every route.
        let actual: Vec<&str> = segments(request_path(uri)).collect();
        let found = self.routes.iter().find(|route| {
            route.method == method
                && route.segments.len() == actual.len()
                && route
                    .segments
                    .iter()
                    .zip(&actual)
                    .all(|(expected, actual)| expected.as_deref().is_none_or(|l| l == *actual))
        });
        match found {
            Some(route) => (&route.operation, &route.template),
            None => (UNMATCHED, UNMATCHED),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_labelled_by_operation_and_template() {
        let routes = Routes::of_api();
        let run = "/api/v1/org/0d3e0000-0000-4000-8000-000000000001/project/a/task-agent/b/run/c";
        assert_eq!(
            routes.label("GET", run),
            (
                "get_task_agent_run",
                "/api/v1/org/{org_id}/project/{project_id}/task-agent/{task_agent_id}/run/{run_id}"
            )
        );
        assert_eq!(routes.label("PUT", run).0, "put_task_agent_run");
        assert_eq!(
            routes
                .label(
                    "GET",
                    "/api/v1/org/x/project/y/task-agent/z/run?page_limit=5",
                )
                .0,
            "list_task_agent_runs"
        );
        assert_eq!(routes.label("GET", "/healthz"), ("healthz", "/healthz"));
        assert_eq!(routes.label("GET", "/no/such/thing/1234").0, UNMATCHED);
    }

    #[test]
    fn labels_stay_bounded_whatever_the_path() {
        let routes = Routes::of_api();
        // Routed by dropshot as it splits paths, so labelled as such.
        assert_eq!(
            routes
                .label("GET", "//api/v1/org/a//project/b/task-agent/c/run/d")
                .0,
            "get_task_agent_run"
        );
        assert_eq!(
            routes.label("GET", "http://host:80/healthz?x=1").0,
            "healthz"
        );
        // Answered with 400 (bad encoding) or otherwise unknown: one label,
        // not one per path.
        for path in ["/x/%ff/1", "/x/%ff/2", "/healthz/extra", "http://host", "*"] {
            assert_eq!(routes.label("GET", path), (UNMATCHED, UNMATCHED), "{path}");
        }
        assert_eq!(routes.label("POST", "/healthz").0, UNMATCHED);
    }
}
