//! One keep-alive HTTP/1.1 connection over (mutual) TLS to a loopback
//! server, and the redirect chain a headless browser follows on it.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;

use crate::Failure;

/// An answer: status, headers, body.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

/// A keep-alive connection to `127.0.0.1:<port>`.
pub(crate) struct Conn {
    sender: SendRequest<Full<Bytes>>,
    host: String,
}

impl Conn {
    /// Connects to `127.0.0.1:<port>` with `tls` (HTTP/1.1 only).
    pub(crate) async fn open(tls: &Arc<rustls::ClientConfig>, port: u16) -> Result<Self, Failure> {
        let mut config = (**tls).clone();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        stream.set_nodelay(true)?;
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(ServerName::try_from("127.0.0.1")?, stream)
            .await?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await?;
        tokio::spawn(conn);
        Ok(Self {
            sender,
            host: format!("127.0.0.1:{port}"),
        })
    }

    /// One request: `path` (with its query), `headers`, `body`.
    pub(crate) async fn call(
        &mut self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Result<Answer, Failure> {
        let mut request = http::Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, &self.host);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Full::new(body))?;
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await?.to_bytes();
        Ok(Answer {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }

    /// A form POST.
    pub(crate) async fn post_form(&mut self, path: &str, form: &str) -> Result<Answer, Failure> {
        self.call(
            Method::POST,
            path,
            &[("content-type", "application/x-www-form-urlencoded")],
            Bytes::copy_from_slice(form.as_bytes()),
        )
        .await
    }

    /// A browser without a human: GETs `path`, then follows every redirect
    /// on this server, keeping cookies, until one leaves for `redirect_uri`;
    /// the parameters of that last URL (fragment, else query).
    pub(crate) async fn browse(
        &mut self,
        path: &str,
        redirect_uri: &str,
    ) -> Result<BTreeMap<String, String>, Failure> {
        let base = url::Url::parse(&format!("https://{}/", self.host))?;
        let mut at = base.join(path)?;
        let mut jar: BTreeMap<String, String> = BTreeMap::new();
        for _ in 0..10 {
            let cookies = jar
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect::<Vec<_>>()
                .join("; ");
            let mut headers = Vec::new();
            if !cookies.is_empty() {
                headers.push(("cookie", cookies.as_str()));
            }
            let target = match at.query() {
                Some(query) => format!("{}?{query}", at.path()),
                None => at.path().to_owned(),
            };
            let answer = self
                .call(Method::GET, &target, &headers, Bytes::new())
                .await?;
            for value in answer.headers.get_all(header::SET_COOKIE) {
                let pair = value.to_str()?.split(';').next().unwrap_or_default();
                if let Some((name, value)) = pair.split_once('=') {
                    if value.is_empty() {
                        jar.remove(name.trim());
                    } else {
                        jar.insert(name.trim().to_owned(), value.to_owned());
                    }
                }
            }
            let next = answer
                .headers
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| {
                    format!(
                        "{target} answered {} without a redirect: {}",
                        answer.status,
                        String::from_utf8_lossy(&answer.body)
                    )
                })?;
            if next.starts_with(redirect_uri) {
                let url = url::Url::parse(next)?;
                let params = url.fragment().or(url.query()).unwrap_or_default();
                return Ok(url::form_urlencoded::parse(params.as_bytes())
                    .into_owned()
                    .collect());
            }
            at = at.join(next)?;
            if at.origin() != base.origin() {
                return Err(format!("a redirect to another server: {at}").into());
            }
        }
        Err("more than ten redirects".into())
    }
}
