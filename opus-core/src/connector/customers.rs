//! Customers API 2.2.1: who the customer is, for PF and PJ consents.

use async_trait::async_trait;

use crate::envelope::Page;
use crate::store::Window;

use super::models::customers::{
    BusinessFinancialRelationData, BusinessIdentificationData, BusinessQualificationData,
    PersonalFinancialRelationData, PersonalIdentificationData, PersonalQualificationData,
};
use super::{ConnectorError, DataRequestContext};

/// The customer registration back office. PF methods answer about
/// `ctx.customer`; PJ methods about `ctx.business_entity`.
#[async_trait]
pub trait CustomersConnector: Send + Sync + 'static {
    /// `GET /personal/identifications`.
    ///
    /// # Errors
    /// [`ConnectorError`] when the back office fails.
    async fn personal_identifications(
        &self,
        ctx: &DataRequestContext,
        window: Window,
    ) -> Result<Page<PersonalIdentificationData>, ConnectorError>;

    /// `GET /personal/qualifications`.
    ///
    /// # Errors
    /// [`ConnectorError`] when the back office fails.
    async fn personal_qualifications(
        &self,
        ctx: &DataRequestContext,
    ) -> Result<PersonalQualificationData, ConnectorError>;

    /// `GET /personal/financial-relations`.
    ///
    /// # Errors
    /// [`ConnectorError`] when the back office fails.
    async fn personal_financial_relations(
        &self,
        ctx: &DataRequestContext,
    ) -> Result<PersonalFinancialRelationData, ConnectorError>;

    /// `GET /business/identifications`.
    ///
    /// # Errors
    /// [`ConnectorError`] when the back office fails.
    async fn business_identifications(
        &self,
        ctx: &DataRequestContext,
        window: Window,
    ) -> Result<Page<BusinessIdentificationData>, ConnectorError>;

    /// `GET /business/qualifications`.
    ///
    /// # Errors
    /// [`ConnectorError`] when the back office fails.
    async fn business_qualifications(
        &self,
        ctx: &DataRequestContext,
    ) -> Result<BusinessQualificationData, ConnectorError>;

    /// `GET /business/financial-relations`.
    ///
    /// # Errors
    /// [`ConnectorError`] when the back office fails.
    async fn business_financial_relations(
        &self,
        ctx: &DataRequestContext,
    ) -> Result<BusinessFinancialRelationData, ConnectorError>;
}
