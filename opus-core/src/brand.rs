//! Brands: the tenants of an institution.
//!
//! An institution may run several brands (a retail bank and a digital bank,
//! say), each registered in the directory as its own authorisation server,
//! with its own issuer, API base URL, keys and look. Every stored record and
//! every token carries its [`BrandId`]; a token, consent, client or key of
//! one brand is never usable by another (architecture invariant 4).

use url::Url;

use crate::id::{AuthorisationServerId, BrandId, OrganisationId};

/// Why a brand configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BrandConfigError {
    /// A required field was not set.
    #[error("brand configuration is missing {0}")]
    Missing(&'static str),
    /// A URL is not acceptable (not https, or carries a query or fragment).
    #[error("brand {0} must be an https URL without query or fragment")]
    InvalidUrl(&'static str),
    /// The display name is empty or too long.
    #[error("brand display name must be 1 to 100 characters")]
    InvalidDisplayName,
    /// A theme colour is not `#rrggbb`.
    #[error("theme colours must be #rrggbb")]
    InvalidColour,
}

/// The look of a brand's white-label pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme {
    primary_colour: String,
    logo_url: Option<Url>,
}

impl Theme {
    /// A theme with a primary colour (`#rrggbb`) and an optional logo.
    ///
    /// # Errors
    /// [`BrandConfigError`] for a malformed colour or a non-https logo URL.
    pub fn new(primary_colour: &str, logo_url: Option<Url>) -> Result<Self, BrandConfigError> {
        let ok = primary_colour.len() == 7
            && primary_colour.starts_with('#')
            && primary_colour[1..].bytes().all(|b| b.is_ascii_hexdigit());
        if !ok {
            return Err(BrandConfigError::InvalidColour);
        }
        if let Some(url) = &logo_url {
            check_https(url, "logo URL")?;
        }
        Ok(Self {
            primary_colour: primary_colour.to_ascii_lowercase(),
            logo_url,
        })
    }

    /// The primary colour, `#rrggbb`.
    pub fn primary_colour(&self) -> &str {
        &self.primary_colour
    }

    /// The logo, if any.
    pub fn logo_url(&self) -> Option<&Url> {
        self.logo_url.as_ref()
    }
}

impl Default for Theme {
    fn default() -> Self {
        Self {
            primary_colour: "#1f4e79".to_owned(),
            logo_url: None,
        }
    }
}

/// One brand of an institution. Built with [`Brand::builder`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Brand {
    id: BrandId,
    display_name: String,
    organisation_id: OrganisationId,
    authorisation_server_id: AuthorisationServerId,
    issuer: Url,
    api_base_url: Url,
    mtls_base_url: Url,
    theme: Theme,
}

impl Brand {
    /// Starts a brand configuration.
    pub fn builder(id: BrandId) -> BrandBuilder {
        BrandBuilder {
            id,
            display_name: None,
            organisation_id: None,
            authorisation_server_id: None,
            issuer: None,
            api_base_url: None,
            mtls_base_url: None,
            theme: Theme::default(),
        }
    }

    /// The brand's id (the tenant key).
    pub fn id(&self) -> &BrandId {
        &self.id
    }

    /// The name shown to customers.
    pub fn display_name(&self) -> &str {
        &self.display_name
    }

    /// The directory organisation that owns the brand.
    pub fn organisation_id(&self) -> &OrganisationId {
        &self.organisation_id
    }

    /// The directory authorisation server registered for the brand.
    pub fn authorisation_server_id(&self) -> &AuthorisationServerId {
        &self.authorisation_server_id
    }

    /// The OpenID issuer (`iss` of ID tokens; `aud` of client assertions and request objects).
    pub fn issuer(&self) -> &Url {
        &self.issuer
    }

    /// The base URL of the brand's OFB APIs (`…/open-banking/…` hangs below it).
    pub fn api_base_url(&self) -> &Url {
        &self.api_base_url
    }

    /// The base URL of the mTLS endpoints (`mtls_endpoint_aliases`); the API
    /// base URL unless configured apart.
    pub fn mtls_base_url(&self) -> &Url {
        &self.mtls_base_url
    }

    /// The look of the brand's pages.
    pub fn theme(&self) -> &Theme {
        &self.theme
    }

    /// The full URL of an API path under the API base URL, e.g.
    /// `open-banking/consents/v3/consents`. Unlike `Url::join`, the base's
    /// last segment is kept whether or not it ends with `/`.
    ///
    /// # Errors
    /// [`url::ParseError`] when `path` does not form a valid URL.
    pub fn api_url(&self, path: &str) -> Result<Url, url::ParseError> {
        append_path(&self.api_base_url, path)
    }

    /// The full URL of a path under the mTLS base URL.
    ///
    /// # Errors
    /// [`url::ParseError`] when `path` does not form a valid URL.
    pub fn mtls_url(&self, path: &str) -> Result<Url, url::ParseError> {
        append_path(&self.mtls_base_url, path)
    }
}

fn append_path(base: &Url, path: &str) -> Result<Url, url::ParseError> {
    let mut joined = base.as_str().trim_end_matches('/').to_owned();
    joined.push('/');
    joined.push_str(path.trim_start_matches('/'));
    Url::parse(&joined)
}

/// Builder of a [`Brand`]; `build` validates.
#[derive(Debug, Clone)]
pub struct BrandBuilder {
    id: BrandId,
    display_name: Option<String>,
    organisation_id: Option<OrganisationId>,
    authorisation_server_id: Option<AuthorisationServerId>,
    issuer: Option<Url>,
    api_base_url: Option<Url>,
    mtls_base_url: Option<Url>,
    theme: Theme,
}

impl BrandBuilder {
    /// The name shown to customers (required).
    pub fn display_name(mut self, name: impl Into<String>) -> Self {
        self.display_name = Some(name.into());
        self
    }

    /// The owning organisation (required).
    pub fn organisation_id(mut self, id: OrganisationId) -> Self {
        self.organisation_id = Some(id);
        self
    }

    /// The directory authorisation server id (required).
    pub fn authorisation_server_id(mut self, id: AuthorisationServerId) -> Self {
        self.authorisation_server_id = Some(id);
        self
    }

    /// The issuer (required; https, no query or fragment).
    pub fn issuer(mut self, url: Url) -> Self {
        self.issuer = Some(url);
        self
    }

    /// The API base URL (required; https).
    pub fn api_base_url(mut self, url: Url) -> Self {
        self.api_base_url = Some(url);
        self
    }

    /// A separate base URL for mTLS endpoints (optional).
    pub fn mtls_base_url(mut self, url: Url) -> Self {
        self.mtls_base_url = Some(url);
        self
    }

    /// The look of the brand's pages (optional).
    pub fn theme(mut self, theme: Theme) -> Self {
        self.theme = theme;
        self
    }

    /// Validates and builds the brand.
    ///
    /// # Errors
    /// [`BrandConfigError`] for a missing field or an unacceptable URL.
    pub fn build(self) -> Result<Brand, BrandConfigError> {
        let display_name = self
            .display_name
            .ok_or(BrandConfigError::Missing("display name"))?;
        if display_name.trim().is_empty() || display_name.chars().count() > 100 {
            return Err(BrandConfigError::InvalidDisplayName);
        }
        let issuer = self.issuer.ok_or(BrandConfigError::Missing("issuer"))?;
        check_https(&issuer, "issuer")?;
        let api_base_url = self
            .api_base_url
            .ok_or(BrandConfigError::Missing("API base URL"))?;
        check_https(&api_base_url, "API base URL")?;
        let mtls_base_url = self.mtls_base_url.unwrap_or_else(|| api_base_url.clone());
        check_https(&mtls_base_url, "mTLS base URL")?;
        Ok(Brand {
            id: self.id,
            display_name,
            organisation_id: self
                .organisation_id
                .ok_or(BrandConfigError::Missing("organisation id"))?,
            authorisation_server_id: self
                .authorisation_server_id
                .ok_or(BrandConfigError::Missing("authorisation server id"))?,
            issuer,
            api_base_url,
            mtls_base_url,
            theme: self.theme,
        })
    }
}

fn check_https(url: &Url, what: &'static str) -> Result<(), BrandConfigError> {
    if url.scheme() != "https"
        || url.query().is_some()
        || url.fragment().is_some()
        || url.host().is_none()
    {
        return Err(BrandConfigError::InvalidUrl(what));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builder() -> BrandBuilder {
        Brand::builder(BrandId::new("banco-azul").unwrap())
            .display_name("Banco Azul")
            .organisation_id(OrganisationId::random())
            .authorisation_server_id(AuthorisationServerId::random())
            .issuer(Url::parse("https://auth.azul.example").unwrap())
            .api_base_url(Url::parse("https://api.azul.example").unwrap())
    }

    #[test]
    fn builds_with_defaults() {
        let brand = builder().build().unwrap();
        assert_eq!(brand.mtls_base_url(), brand.api_base_url());
        assert_eq!(brand.theme(), &Theme::default());
    }

    #[test]
    fn api_urls_keep_the_base_path() {
        let brand = builder()
            .api_base_url(Url::parse("https://api.azul.example/opbk").unwrap())
            .build()
            .unwrap();
        let url = brand.api_url("/open-banking/consents/v3/consents").unwrap();
        assert_eq!(
            url.as_str(),
            "https://api.azul.example/opbk/open-banking/consents/v3/consents"
        );
        let slash = builder()
            .api_base_url(Url::parse("https://api.azul.example/opbk/").unwrap())
            .build()
            .unwrap();
        assert_eq!(
            slash.api_url("open-banking/x").unwrap().as_str(),
            "https://api.azul.example/opbk/open-banking/x"
        );
        assert_eq!(
            slash.mtls_url("token").unwrap().as_str(),
            "https://api.azul.example/opbk/token"
        );
    }

    #[test]
    fn refuses_insecure_or_incomplete_configuration() {
        let http = builder().issuer(Url::parse("http://auth.azul.example").unwrap());
        assert_eq!(http.build(), Err(BrandConfigError::InvalidUrl("issuer")));
        let query = builder().issuer(Url::parse("https://auth.azul.example/?a=b").unwrap());
        assert_eq!(query.build(), Err(BrandConfigError::InvalidUrl("issuer")));
        let missing = Brand::builder(BrandId::new("x").unwrap()).display_name("X");
        assert_eq!(missing.build(), Err(BrandConfigError::Missing("issuer")));
        assert!(Theme::new("blue", None).is_err());
        assert_eq!(
            Theme::new("#AABBCC", None).unwrap().primary_colour(),
            "#aabbcc"
        );
    }
}
