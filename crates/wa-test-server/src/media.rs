//! The media server, in memory: the HTTP client the library uploads with.
//!
//! The client asks the chat server for a media connection (`media_conn`:
//! an auth token and a host, here [`HOST`]), encrypts the file and POSTs
//! the ciphertext to `https://HOST/mms/<type>/<token>?auth=…&token=…`, the
//! token being the base64url SHA-256 of the ciphertext. The media server
//! keeps the blob and answers `{"url": …, "direct_path": …}`; the client
//! puts those, with the keys and hashes, in the message it sends.

use std::sync::Arc;

use whatsapp_rust::anyhow;
use whatsapp_rust::async_trait;
use whatsapp_rust::http::{HttpClient, HttpRequest, HttpResponse};

use crate::Shared;

/// The media host the server names in `media_conn`.
pub(crate) const HOST: &str = "mmg.wa-test-server.invalid";
/// The media auth token it hands out.
pub(crate) const AUTH: &str = "wa-test-server-media-auth";

/// One blob the media server holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// The upload path's media kind: `image`, `video`, `document`…
    pub kind: String,
    /// The client's token for the blob (base64url SHA-256 of `body`).
    pub token: String,
    /// What the server answered: where the blob can be fetched.
    pub url: String,
    pub direct_path: String,
    /// The encrypted blob as posted (ciphertext and MAC).
    pub body: Vec<u8>,
    /// How many times it was posted.
    pub count: usize,
}

#[derive(Default)]
pub(crate) struct Uploads(Vec<Upload>);

impl Uploads {
    pub(crate) fn list(&self) -> Vec<Upload> {
        self.0.clone()
    }

    fn record(&mut self, kind: &str, token: &str, body: Vec<u8>) -> Upload {
        if let Some(upload) = self.0.iter_mut().find(|u| u.token == token) {
            upload.count += 1;
            upload.body = body;
            return upload.clone();
        }
        let direct_path = format!("/v/t62.7118-24/{}/{token}.enc", self.0.len() + 1);
        let upload = Upload {
            kind: kind.to_owned(),
            token: token.to_owned(),
            url: format!("https://{HOST}{direct_path}"),
            direct_path,
            body,
            count: 1,
        };
        self.0.push(upload.clone());
        upload
    }
}

/// The library's HTTP client, answered by the test server
/// ([`TestServer::web`](crate::TestServer::web)): uploads to the media host with
/// the right auth token are kept; anything else is a 404, or a 401 for a
/// bad token.
#[derive(Clone)]
pub struct WebClient {
    shared: Arc<Shared>,
}

impl WebClient {
    pub(crate) fn new(shared: Arc<Shared>) -> WebClient {
        WebClient { shared }
    }
}

#[async_trait]
impl HttpClient for WebClient {
    async fn execute(&self, request: HttpRequest) -> Result<HttpResponse, anyhow::Error> {
        Ok(self.answer(request))
    }
}

impl WebClient {
    fn answer(&self, request: HttpRequest) -> HttpResponse {
        let Some(rest) = request.url.strip_prefix(&format!("https://{HOST}")) else {
            return status(404, "unknown host");
        };
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let param = |name: &str| {
            query
                .split('&')
                .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
        };
        let Some(upload) = path.strip_prefix("/mms/") else {
            return status(404, "not an upload");
        };
        let Some((kind, token)) = upload.split_once('/') else {
            return status(404, "no token");
        };
        if request.method != "POST" {
            return status(405, "uploads are POSTs");
        }
        if param("auth") != Some(AUTH) {
            return status(401, "bad media auth");
        }
        if param("resume").is_some() {
            // Nothing is ever half uploaded here.
            return json(200, r#"{"resume":"0"}"#.to_owned());
        }
        let body = request.body.map(|b| b.to_vec()).unwrap_or_default();
        let upload = self.shared.lock().media.record(kind, token, body);
        json(
            200,
            format!(
                r#"{{"url":"{}","direct_path":"{}"}}"#,
                upload.url, upload.direct_path
            ),
        )
    }
}

fn status(code: u16, why: &str) -> HttpResponse {
    HttpResponse {
        status_code: code,
        body: why.as_bytes().to_vec(),
    }
}

fn json(code: u16, body: String) -> HttpResponse {
    HttpResponse {
        status_code: code,
        body: body.into_bytes(),
    }
}
