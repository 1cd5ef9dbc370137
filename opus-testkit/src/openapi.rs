//! Validation of real requests and responses against the official OFB
//! OpenAPI files, loaded at test time.
//!
//! The OFB specs are OpenAPI 3.0. Loading turns each document into JSON and
//! rewrites the 3.0 schema dialect into JSON Schema 2020-12 (`nullable: true`
//! becomes a `null` alternative); `$ref`s resolve against the whole document,
//! so nothing is copied by hand.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use jsonschema::{Draft, Validator};
use serde_json::{Map, Value, json};

/// Why a spec could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenApiError {
    /// The file could not be read.
    #[error("cannot read {0}: {1}")]
    Read(PathBuf, std::io::Error),
    /// The YAML did not parse.
    #[error("cannot parse {0}: {1}")]
    Parse(PathBuf, String),
    /// The operation, status or media type is not in the spec.
    #[error("the spec has no {0}")]
    Missing(String),
    /// The schema did not compile.
    #[error("schema for {0} does not compile: {1}")]
    Compile(String, String),
}

/// One OpenAPI document.
pub struct OpenApi {
    name: String,
    document: Value,
    validators: Mutex<HashMap<String, Arc<Validator>>>,
}

impl std::fmt::Debug for OpenApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenApi")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Where the official specs are: `OPUS_SPECS_DIR`, else `../shared/specs/openapi`
/// next to the workspace.
pub fn specs_dir() -> PathBuf {
    match std::env::var_os("OPUS_SPECS_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/specs/openapi"),
    }
}

/// Rewrites OpenAPI 3.0 schema keywords into JSON Schema 2020-12.
fn convert(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.remove("nullable") == Some(Value::Bool(true)) {
                if let Some(kind) = map.get("type").cloned() {
                    map.insert("type".into(), json!([kind, "null"]));
                }
                if let Some(Value::Array(values)) = map.get_mut("enum") {
                    values.push(Value::Null);
                }
            }
            for child in map.values_mut() {
                convert(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(convert),
        _ => {}
    }
}

impl OpenApi {
    /// Loads `<specs_dir>/<api>/<version>.yml`, e.g. `("consents", "3.3.1")`.
    ///
    /// # Errors
    /// [`OpenApiError`] when the file cannot be read or parsed.
    pub fn load(api: &str, version: &str) -> Result<Self, OpenApiError> {
        let path = specs_dir().join(api).join(format!("{version}.yml"));
        Self::load_file(&path)
    }

    /// Loads one OpenAPI YAML file.
    ///
    /// # Errors
    /// [`OpenApiError`] when the file cannot be read or parsed.
    pub fn load_file(path: &Path) -> Result<Self, OpenApiError> {
        let text =
            std::fs::read_to_string(path).map_err(|e| OpenApiError::Read(path.to_owned(), e))?;
        let text = text.trim_start_matches('\u{feff}');
        let mut document: Value = serde_saphyr::from_str(text)
            .map_err(|e| OpenApiError::Parse(path.to_owned(), e.to_string()))?;
        convert(&mut document);
        Ok(Self {
            name: path.display().to_string(),
            document,
            validators: Mutex::new(HashMap::new()),
        })
    }

    /// The document with the value at `pointer` replaced (e.g. a newer
    /// enum than the spec's).
    pub fn with_value(mut self, pointer: &str, value: Value) -> Self {
        if let Some(slot) = self.document.pointer_mut(pointer) {
            *slot = value;
            self.validators
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clear();
        }
        self
    }

    /// The problems of `body` as an instance of `#/components/schemas/<name>`.
    ///
    /// # Errors
    /// [`OpenApiError`] when the schema does not compile.
    pub fn schema_problems(&self, name: &str, body: &Value) -> Result<Vec<String>, OpenApiError> {
        let schema = json!({"$ref": format!("#/components/schemas/{name}")});
        self.check(format!("schema {name}"), &schema, body)
    }

    fn resolve<'a>(&'a self, value: &'a Value) -> Result<&'a Value, OpenApiError> {
        match value.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let pointer = reference
                    .strip_prefix('#')
                    .ok_or_else(|| OpenApiError::Missing(format!("local reference {reference}")))?;
                self.document
                    .pointer(pointer)
                    .ok_or_else(|| OpenApiError::Missing(format!("reference {reference}")))
            }
            None => Ok(value),
        }
    }

    fn operation(&self, method: &str, path: &str) -> Result<&Value, OpenApiError> {
        self.document
            .get("paths")
            .and_then(|p| p.get(path))
            .and_then(|p| p.get(method.to_ascii_lowercase()))
            .ok_or_else(|| OpenApiError::Missing(format!("operation {method} {path}")))
    }

    fn validator(&self, key: String, schema: &Value) -> Result<Arc<Validator>, OpenApiError> {
        let mut cache = self.validators.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(validator) = cache.get(&key) {
            return Ok(validator.clone());
        }
        // The whole document is the root, so `#/components/...` resolves.
        let mut root = match &self.document {
            Value::Object(map) => map.clone(),
            _ => Map::new(),
        };
        root.insert("x-opus-under-test".into(), schema.clone());
        root.insert("$ref".into(), json!("#/x-opus-under-test"));
        let validator = jsonschema::options()
            .with_draft(Draft::Draft202012)
            .should_validate_formats(true)
            .build(&Value::Object(root))
            .map_err(|e| OpenApiError::Compile(key.clone(), e.to_string()))?;
        let validator = Arc::new(validator);
        cache.insert(key, validator.clone());
        Ok(validator)
    }

    fn check(
        &self,
        key: String,
        schema: &Value,
        body: &Value,
    ) -> Result<Vec<String>, OpenApiError> {
        let validator = self.validator(key, schema)?;
        Ok(validator
            .iter_errors(body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect())
    }

    /// The problems of `body` as the `status` response of `method path`
    /// (`path` as the spec writes it, e.g. `/consents/{consentId}`); empty
    /// when it conforms.
    ///
    /// # Errors
    /// [`OpenApiError`] when the spec has no such response or its schema
    /// does not compile.
    pub fn response_problems(
        &self,
        method: &str,
        path: &str,
        status: u16,
        body: &Value,
    ) -> Result<Vec<String>, OpenApiError> {
        let operation = self.operation(method, path)?;
        let responses = operation
            .get("responses")
            .ok_or_else(|| OpenApiError::Missing(format!("responses of {method} {path}")))?;
        let response = responses
            .get(status.to_string())
            .or_else(|| responses.get("default"))
            .ok_or_else(|| {
                OpenApiError::Missing(format!("response {status} of {method} {path}"))
            })?;
        let response = self.resolve(response)?;
        let schema = response
            .get("content")
            .and_then(|c| {
                c.get("application/json")
                    .or_else(|| c.get("application/json; charset=utf-8"))
                    .or_else(|| c.get("application/jwt"))
            })
            .and_then(|c| c.get("schema"))
            .ok_or_else(|| {
                OpenApiError::Missing(format!("JSON body of {status} for {method} {path}"))
            })?;
        self.check(format!("response {method} {path} {status}"), schema, body)
    }

    /// The problems of `record` as one item of the `data` of the 200
    /// response of `method path` (an element when `data` is a list, the
    /// whole `data` otherwise): what a back-office connector must produce.
    ///
    /// # Errors
    /// [`OpenApiError`] when the spec has no such response or its schema
    /// does not compile.
    pub fn data_problems(
        &self,
        method: &str,
        path: &str,
        record: &Value,
    ) -> Result<Vec<String>, OpenApiError> {
        let missing = || OpenApiError::Missing(format!("data of {method} {path} 200"));
        let operation = self.operation(method, path)?;
        let response = operation
            .get("responses")
            .and_then(|r| r.get("200"))
            .ok_or_else(missing)?;
        let response = self.resolve(response)?;
        let schema = response
            .get("content")
            .and_then(|c| {
                c.get("application/json")
                    .or_else(|| c.get("application/json; charset=utf-8"))
            })
            .and_then(|c| c.get("schema"))
            .ok_or_else(missing)?;
        let schema = self.resolve(schema)?;
        let data = schema
            .get("properties")
            .and_then(|p| p.get("data"))
            .ok_or_else(missing)?;
        let item = data.get("items").unwrap_or(data);
        self.check(format!("data of {method} {path}"), item, record)
    }

    /// The problems of `body` as the request body of `method path` (for a
    /// signed body, `body` is the JWT's payload).
    ///
    /// # Errors
    /// [`OpenApiError`] when the spec has no such request body.
    pub fn request_problems(
        &self,
        method: &str,
        path: &str,
        body: &Value,
    ) -> Result<Vec<String>, OpenApiError> {
        let operation = self.operation(method, path)?;
        let request = operation
            .get("requestBody")
            .ok_or_else(|| OpenApiError::Missing(format!("request body of {method} {path}")))?;
        let request = self.resolve(request)?;
        let schema = request
            .get("content")
            .and_then(|c| {
                c.get("application/json")
                    .or_else(|| c.get("application/jwt"))
            })
            .and_then(|c| c.get("schema"))
            .ok_or_else(|| {
                OpenApiError::Missing(format!("JSON request body of {method} {path}"))
            })?;
        self.check(format!("request {method} {path}"), schema, body)
    }
}
