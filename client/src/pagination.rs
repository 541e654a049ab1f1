//! Walking every page of a list.

use futures::stream::{self, Stream, TryStreamExt};

use crate::Error;
use crate::builder::ListTaskAgentRuns;
use crate::types::{Error as ErrorBody, TaskAgentRun};

impl<'a> ListTaskAgentRuns<'a> {
    /// Every run the list yields, page after page (newest first), following
    /// `pagination.next_cursor` until the last page. The filters and the page
    /// size set on the builder apply to every page. The stream ends at the
    /// first error.
    pub fn stream(self) -> impl Stream<Item = Result<TaskAgentRun, Error<ErrorBody>>> + Unpin + 'a {
        // The state is the request of the next page, `None` after the last.
        let pages = stream::try_unfold(Some(self), |next| async move {
            let Some(request) = next else {
                return Ok::<_, Error<ErrorBody>>(None);
            };
            let page = request.clone().send().await?.into_inner();
            let next = match page.pagination.next_cursor {
                Some(cursor) if page.pagination.has_next => Some(request.cursor(cursor)),
                _ => None,
            };
            Ok(Some((stream::iter(page.results.into_iter().map(Ok)), next)))
        });
        Box::pin(pages.try_flatten())
    }
}
