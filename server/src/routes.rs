//! Which route a request took, for logs and metrics: the operation and the
//! path template (`/api/v1/org/{org_id}/...`), never the concrete path, so
//! that ids stay out of metric labels.

/// One route of the API.
#[derive(Clone, Debug)]
struct Route {
    method: String,
    template: String,
    segments: Vec<Option<String>>,
    operation: String,
}

/// The routes of the published API, read from dropshot's document of the
/// trait (so they cannot drift from it).
#[derive(Clone, Debug)]
pub struct Routes {
    routes: Vec<Route>,
}

/// The label of requests that matched no route.
pub const UNMATCHED: &str = "unmatched";

impl Routes {
    /// The routes of the API trait.
    pub fn of_api() -> Routes {
        Routes::from_document(&crate::api::openapi_document())
    }

    fn from_document(document: &serde_json::Value) -> Routes {
        let mut routes = Vec::new();
        for (template, item) in document["paths"].as_object().into_iter().flatten() {
            for (method, operation) in item.as_object().into_iter().flatten() {
                let Some(operation) = operation["operationId"].as_str() else {
                    continue;
                };
                routes.push(Route {
                    method: method.to_uppercase(),
                    template: template.clone(),
                    segments: template
                        .split('/')
                        .map(|segment| (!segment.starts_with('{')).then(|| segment.to_owned()))
                        .collect(),
                    operation: operation.to_owned(),
                });
            }
        }
        Routes { routes }
    }

    /// The operation and template of a request. Requests that match no
    /// published route are labelled with their path if they were answered
    /// (the unpublished routes have no parameters, so the set of labels stays
    /// small) and as [`UNMATCHED`] otherwise.
    pub fn label(&self, method: &str, uri: &str, status: u16) -> (String, String) {
        let path = uri.split('?').next().unwrap_or_default();
        let segments: Vec<&str> = path.split('/').collect();
        let found = self.routes.iter().find(|route| {
            route.method == method
                && route.segments.len() == segments.len()
                && route
                    .segments
                    .iter()
                    .zip(&segments)
                    .all(|(expected, actual)| match expected {
                        Some(literal) => literal == actual,
                        None => !actual.is_empty(),
                    })
        });
        match found {
            Some(route) => (route.operation.clone(), route.template.clone()),
            None if status == 404 || status == 405 => (UNMATCHED.to_owned(), UNMATCHED.to_owned()),
            None => (path.trim_start_matches('/').to_owned(), path.to_owned()),
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
            routes.label("GET", run, 200),
            (
                "get_task_agent_run".to_owned(),
                "/api/v1/org/{org_id}/project/{project_id}/task-agent/{task_agent_id}/run/{run_id}"
                    .to_owned()
            )
        );
        assert_eq!(routes.label("PUT", run, 201).0, "put_task_agent_run");
        assert_eq!(
            routes
                .label(
                    "GET",
                    "/api/v1/org/x/project/y/task-agent/z/run?page_limit=5",
                    200
                )
                .0,
            "list_task_agent_runs"
        );
        assert_eq!(
            routes.label("GET", "/healthz", 200),
            ("healthz".to_owned(), "/healthz".to_owned())
        );
        assert_eq!(routes.label("GET", "/no/such/thing/1234", 404).0, UNMATCHED);
    }
}
