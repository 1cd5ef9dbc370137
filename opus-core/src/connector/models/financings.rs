//! Financings API 2.4.0 models (`financings`), generated from the official OpenAPI
//! file by `tools/gen_connector_models.py`. Do not edit by hand.
//!
//! | endpoint | `data` |
//! |---|---|
//! | `GET /contracts` | list of [`FinancingsListContract`] |
//! | `GET /contracts/{contractId}` | [`FinancingsContract`] |
//! | `GET /contracts/{contractId}/warranties` | list of [`FinancingsWarranties`] |
//! | `GET /contracts/{contractId}/scheduled-instalments` | [`FinancingsInstalments`] |
//! | `GET /contracts/{contractId}/payments` | [`FinancingsPayments`] |

#![allow(clippy::doc_markdown)]

use serde::{Deserialize, Serialize};

/// "Tipo da modalidade de crédito contratada, conforme circular 4.015 e descrição do DOC3040 do SCR). (Vide Enum) Financiamentos, Financiamentos rurais e Financiamentos imobiliários"
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum EnumProductType {
    /// `FINANCIAMENTOS`
    #[serde(rename = "FINANCIAMENTOS")]
    Financiamentos,
    /// `FINANCIAMENTOS_RURAIS`
    #[serde(rename = "FINANCIAMENTOS_RURAIS")]
    FinanciamentosRurais,
    /// `FINANCIAMENTOS_IMOBILIARIOS`
    #[serde(rename = "FINANCIAMENTOS_IMOBILIARIOS")]
    FinanciamentosImobiliarios,
}

/// "Sub tipo da modalidades de crédito contratadas, conforme circular 4.015 e descrição do DOC3040 do SCR). (Vide Enum) Aquisição de bens veículos automotores, Aquisição de bens de outros bens, Microcrédito, Custeio, Investimento, Industrialização, Comercialização, Financiamento habitacional SFH e…
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum EnumProductSubType {
    /// `AQUISICAO_BENS_VEICULOS_AUTOMOTORES`
    #[serde(rename = "AQUISICAO_BENS_VEICULOS_AUTOMOTORES")]
    AquisicaoBensVeiculosAutomotores,
    /// `AQUISICAO_BENS_OUTROS_BENS`
    #[serde(rename = "AQUISICAO_BENS_OUTROS_BENS")]
    AquisicaoBensOutrosBens,
    /// `MICROCREDITO`
    #[serde(rename = "MICROCREDITO")]
    Microcredito,
    /// `CUSTEIO`
    #[serde(rename = "CUSTEIO")]
    Custeio,
    /// `INVESTIMENTO`
    #[serde(rename = "INVESTIMENTO")]
    Investimento,
    /// `INDUSTRIALIZACAO`
    #[serde(rename = "INDUSTRIALIZACAO")]
    Industrializacao,
    /// `COMERCIALIZACAO`
    #[serde(rename = "COMERCIALIZACAO")]
    Comercializacao,
    /// `FINANCIAMENTO_HABITACIONAL_SFH`
    #[serde(rename = "FINANCIAMENTO_HABITACIONAL_SFH")]
    FinanciamentoHabitacionalSfh,
    /// `FINANCIAMENTO_HABITACIONAL_EXCETO_SFH`
    #[serde(rename = "FINANCIAMENTO_HABITACIONAL_EXCETO_SFH")]
    FinanciamentoHabitacionalExcetoSfh,
}

/// Conjunto de informações de contratos de financiamento mantidos pelo cliente na instituição transmissora e para os quais ele tenha fornecido consentimento
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinancingsListContract {
    /// Identifica de forma única o contrato da operação de crédito do cliente, mantendo as regras de imutabilidade dentro da instituição transmissora.
    #[serde(rename = "contractId")]
    pub contract_id: String,
    /// Nome da Marca reportada pelo participante no Open Finance. Recomenda-se utilizar, sempre que possível, o mesmo nome de marca atribuído no campo do diretório Customer Friendly Server Name (Authorisation Server).
    #[serde(rename = "brandName")]
    pub brand_name: String,
    /// Registro completo do CNPJ da instituição responsável pelo Cadastro - o CNPJ corresponde a representação alfanumérica da inscrição no Cadastro de Pessoa Jurídica. Deve-se ter apenas os caracteres do CNPJ, sem máscara.
    #[serde(rename = "companyCnpj")]
    pub company_cnpj: String,
    /// "Tipo da modalidade de crédito contratada, conforme circular 4.015 e descrição do DOC3040 do SCR). (Vide Enum) Financiamentos, Financiamentos rurais e Financiamentos imobiliários"
    #[serde(rename = "productType")]
    pub product_type: EnumProductType,
    /// "Sub tipo da modalidades de crédito contratadas, conforme circular 4.015 e descrição do DOC3040 do SCR). (Vide Enum) Aquisição de bens veículos automotores, Aquisição de bens de outros bens, Microcrédito, Custeio, Investimento, Industrialização, Comercialização, Financiamento habitacional SFH e…
    #[serde(rename = "productSubType")]
    pub product_sub_type: EnumProductSubType,
    /// Número padronizado do contrato - IPOC (Identificação Padronizada da Operação de Crédito). Segundo DOC 3040, composta por: - **CNPJ da instituição:** 8 (oito) posições iniciais; - **Modalidade da operação:** 4 (quatro) posições; - **Tipo do cliente:** 1 (uma) posição( 1 = pessoa natural - CPF, 2=…
    #[serde(rename = "ipocCode")]
    pub ipoc_code: String,
}

/// "Informação relativa à periodicidade regular das parcelas. (Vide Enum) sem periodicidade regular, semanal, quinzenal, mensal, bimestral, trimestral, semestral, anual"
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum FinancingsContractInstalmentPeriodicity {
    /// `SEM_PERIODICIDADE_REGULAR`
    #[serde(rename = "SEM_PERIODICIDADE_REGULAR")]
    SemPeriodicidadeRegular,
    /// `SEMANAL`
    #[serde(rename = "SEMANAL")]
    Semanal,
    /// `QUINZENAL`
    #[serde(rename = "QUINZENAL")]
    Quinzenal,
    /// `MENSAL`
    #[serde(rename = "MENSAL")]
    Mensal,
    /// `BIMESTRAL`
    #[serde(rename = "BIMESTRAL")]
    Bimestral,
    /// `TRIMESTRAL`
    #[serde(rename = "TRIMESTRAL")]
    Trimestral,
    /// `SEMESTRAL`
    #[serde(rename = "SEMESTRAL")]
    Semestral,
    /// `ANUAL`
    #[serde(rename = "ANUAL")]
    Anual,
    /// `OUTROS`
    #[serde(rename = "OUTROS")]
    Outros,
}

/// Sistema de amortização (Vide Enum): - SAC (Sistema de Amortização Constante) - É aquele em que o valor da amortização permanece igual até o final. Os juros cobrados sobre o parcelamento não entram nesta conta. - PRICE (Sistema Francês de Amortização) - As parcelas são fixas do início ao fim do…
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum FinancingsContractAmortizationScheduled {
    /// `SAC`
    #[serde(rename = "SAC")]
    Sac,
    /// `PRICE`
    #[serde(rename = "PRICE")]
    Price,
    /// `SAM`
    #[serde(rename = "SAM")]
    Sam,
    /// `SEM_SISTEMA_AMORTIZACAO`
    #[serde(rename = "SEM_SISTEMA_AMORTIZACAO")]
    SemSistemaAmortizacao,
    /// `OUTROS`
    #[serde(rename = "OUTROS")]
    Outros,
}

/// "Tipo de Taxa (vide Enum) - NOMINAL (taxa nominal é uma taxa de juros em que a unidade referencial não coincide com a unidade de tempo da capitalização. Ela é sempre fornecida em termos anuais, e seus períodos de capitalização podem ser diários, mensais, trimestrais ou semestrais. p.ex. Uma taxa de…
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum FinancingsContractInterestRateTaxType {
    /// `NOMINAL`
    #[serde(rename = "NOMINAL")]
    Nominal,
    /// `EFETIVA`
    #[serde(rename = "EFETIVA")]
    Efetiva,
}

/// "Tipo de Juros (vide Enum) - SIMPLES (aplicada/cobrada sempre sobre o capital inicial, que é o valor emprestado/investido. Não há cobrança de juros sobre juros acumulados no(s) período(s) anterior(es). Exemplo: em um empréstimo de R$1.000, com taxa de juros simples de 8% a.a., com duração de 2…
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum FinancingsContractInterestRateInterestRateType {
    /// `SIMPLES`
    #[serde(rename = "SIMPLES")]
    Simples,
    /// `COMPOSTO`
    #[serde(rename = "COMPOSTO")]
    Composto,
}

/// "Periodicidade da taxa . (Vide Enum) a.m - ao mês a.a. - ao ano"
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum FinancingsContractInterestRateTaxPeriodicity {
    /// `AM`
    #[serde(rename = "AM")]
    Am,
    /// `AA`
    #[serde(rename = "AA")]
    Aa,
}

/// Base de cálculo
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum FinancingsContractInterestRateCalculation {
    /// `21/252`
    #[serde(rename = "21/252")]
    N21252,
    /// `30/360`
    #[serde(rename = "30/360")]
    N30360,
    /// `30/365`
    #[serde(rename = "30/365")]
    N30365,
}

/// "Tipos de taxas referenciais ou indexadores, conforme Anexo 5: Taxa referencial ou Indexador (Indx), do Documento 3040"
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum FinancingsContractInterestRateReferentialRateIndexerType {
    /// `SEM_TIPO_INDEXADOR`
    #[serde(rename = "SEM_TIPO_INDEXADOR")]
    SemTipoIndexador,
    /// `PRE_FIXADO`
    #[serde(rename = "PRE_FIXADO")]
    PreFixado,
    /// `POS_FIXADO`
    #[serde(rename = "POS_FIXADO")]
    PosFixado,
    /// `FLUTUANTES`
    #[serde(rename = "FLUTUANTES")]
    Flutuantes,
    /// `INDICES_PRECOS`
    #[serde(rename = "INDICES_PRECOS")]
    IndicesPrecos,
    /// `CREDITO_RURAL`
    #[serde(rename = "CREDITO_RURAL")]
    CreditoRural,
    /// `OUTROS_INDEXADORES`
    #[serde(rename = "OUTROS_INDEXADORES")]
    OutrosIndexadores,
}

/// "Sub tipos de taxas referenciais ou indexadores, conforme Anexo 5: Taxa referencial ou Indexador (Indx), do Documento 3040"
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum FinancingsContractInterestRateReferentialRateIndexerSubType {
    /// `SEM_SUB_TIPO_INDEXADOR`
    #[serde(rename = "SEM_SUB_TIPO_INDEXADOR")]
    SemSubTipoIndexador,
    /// `PRE_FIXADO`
    #[serde(rename = "PRE_FIXADO")]
    PreFixado,
    /// `TR_TBF`
    #[serde(rename = "TR_TBF")]
    TrTbf,
    /// `TJLP`
    #[serde(rename = "TJLP")]
    Tjlp,
    /// `LIBOR`
    #[serde(rename = "LIBOR")]
    Libor,
    /// `TLP`
    #[serde(rename = "TLP")]
    Tlp,
    /// `OUTRAS_TAXAS_POS_FIXADAS`
    #[serde(rename = "OUTRAS_TAXAS_POS_FIXADAS")]
    OutrasTaxasPosFixadas,
    /// `CDI`
    #[serde(rename = "CDI")]
    Cdi,
    /// `SELIC`
    #[serde(rename = "SELIC")]
    Selic,
    /// `OUTRAS_TAXAS_FLUTUANTES`
    #[serde(rename = "OUTRAS_TAXAS_FLUTUANTES")]
    OutrasTaxasFlutuantes,
    /// `IGPM`
    #[serde(rename = "IGPM")]
    Igpm,
    /// `IPCA`
    #[serde(rename = "IPCA")]
    Ipca,
    /// `IPCC`
    #[serde(rename = "IPCC")]
    Ipcc,
    /// `OUTROS_INDICES_PRECO`
    #[serde(rename = "OUTROS_INDICES_PRECO")]
    OutrosIndicesPreco,
    /// `TCR_PRE`
    #[serde(rename = "TCR_PRE")]
    TcrPre,
    /// `TCR_POS`
    #[serde(rename = "TCR_POS")]
    TcrPos,
    /// `TRFC_PRE`
    #[serde(rename = "TRFC_PRE")]
    TrfcPre,
    /// `TRFC_POS`
    #[serde(rename = "TRFC_POS")]
    TrfcPos,
    /// `OUTROS_INDEXADORES`
    #[serde(rename = "OUTROS_INDEXADORES")]
    OutrosIndexadores,
}

/// Objeto que traz o conjunto de informações necessárias para demonstrar a composição das taxas de juros remuneratórios da Modalidade de crédito
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinancingsContractInterestRate {
    /// "Tipo de Taxa (vide Enum) - NOMINAL (taxa nominal é uma taxa de juros em que a unidade referencial não coincide com a unidade de tempo da capitalização. Ela é sempre fornecida em termos anuais, e seus períodos de capitalização podem ser diários, mensais, trimestrais ou semestrais. p.ex. Uma taxa de…
    #[serde(rename = "taxType")]
    pub tax_type: FinancingsContractInterestRateTaxType,
    /// "Tipo de Juros (vide Enum) - SIMPLES (aplicada/cobrada sempre sobre o capital inicial, que é o valor emprestado/investido. Não há cobrança de juros sobre juros acumulados no(s) período(s) anterior(es). Exemplo: em um empréstimo de R$1.000, com taxa de juros simples de 8% a.a., com duração de 2…
    #[serde(rename = "interestRateType")]
    pub interest_rate_type: FinancingsContractInterestRateInterestRateType,
    /// "Periodicidade da taxa . (Vide Enum) a.m - ao mês a.a. - ao ano"
    #[serde(rename = "taxPeriodicity")]
    pub tax_periodicity: FinancingsContractInterestRateTaxPeriodicity,
    /// Base de cálculo
    #[serde(rename = "calculation")]
    pub calculation: FinancingsContractInterestRateCalculation,
    /// "Tipos de taxas referenciais ou indexadores, conforme Anexo 5: Taxa referencial ou Indexador (Indx), do Documento 3040"
    #[serde(rename = "referentialRateIndexerType")]
    pub referential_rate_indexer_type: FinancingsContractInterestRateReferentialRateIndexerType,
    /// "Sub tipos de taxas referenciais ou indexadores, conforme Anexo 5: Taxa referencial ou Indexador (Indx), do Documento 3040"
    #[serde(
        rename = "referentialRateIndexerSubType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub referential_rate_indexer_sub_type:
        Option<FinancingsContractInterestRateReferentialRateIndexerSubType>,
    /// Campo livre para complementar a informação relativa ao Tipo de taxa referencial ou indexador.
    #[serde(
        rename = "referentialRateIndexerAdditionalInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub referential_rate_indexer_additional_info: Option<String>,
    /// Taxa pré fixada aplicada sob o contrato da modalidade crédito. p.ex. 0.014500. O preenchimento deve respeitar as 6 casas decimais, mesmo que venham preenchidas com zeros(representação de porcentagem p.ex: 0.150000. Este valor representa 15%. O valor 1 representa 100%).
    #[serde(
        rename = "preFixedRate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub pre_fixed_rate: Option<String>,
    /// Taxa pós fixada aplicada sob o contrato da modalidade crédito. p.ex. 0.014500. O preenchimento deve respeitar as 6 casas decimais, mesmo que venham preenchidas com zeros (representação de porcentagem p.ex: 0.150000. Este valor representa 15%. O valor 1 representa 100%).
    #[serde(
        rename = "postFixedRate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub post_fixed_rate: Option<String>,
    /// Texto com informações adicionais sobre a composição das taxas de juros pactuadas.
    #[serde(
        rename = "additionalInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub additional_info: Option<String>,
}

/// Tipo de cobrança para a tarifa pactuada no contrato.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum FinancingsContractFeeFeeChargeType {
    /// `UNICA`
    #[serde(rename = "UNICA")]
    Unica,
    /// `POR_PARCELA`
    #[serde(rename = "POR_PARCELA")]
    PorParcela,
}

/// "Forma de cobrança relativa a tarifa pactuada no contrato. (Vide Enum) - Mínimo - Máximo - Fixo - Percentual"
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum FinancingsContractFeeFeeCharge {
    /// `MINIMO`
    #[serde(rename = "MINIMO")]
    Minimo,
    /// `MAXIMO`
    #[serde(rename = "MAXIMO")]
    Maximo,
    /// `FIXO`
    #[serde(rename = "FIXO")]
    Fixo,
    /// `PERCENTUAL`
    #[serde(rename = "PERCENTUAL")]
    Percentual,
}

/// Objeto que traz o conjunto de informações necessárias para demonstrar a composição das taxas de juros remuneratórios da Modalidade de crédito
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinancingsContractFee {
    /// Denominação da Tarifa pactuada
    #[serde(rename = "feeName")]
    pub fee_name: String,
    /// Sigla identificadora da tarifa pactuada
    #[serde(rename = "feeCode")]
    pub fee_code: String,
    /// Tipo de cobrança para a tarifa pactuada no contrato.
    #[serde(rename = "feeChargeType")]
    pub fee_charge_type: FinancingsContractFeeFeeChargeType,
    /// "Forma de cobrança relativa a tarifa pactuada no contrato. (Vide Enum) - Mínimo - Máximo - Fixo - Percentual"
    #[serde(rename = "feeCharge")]
    pub fee_charge: FinancingsContractFeeFeeCharge,
    /// Valor monetário da tarifa pactuada no contrato.
    #[serde(rename = "feeAmount", default, skip_serializing_if = "Option::is_none")]
    pub fee_amount: Option<String>,
    /// É o valor da tarifa em percentual pactuada no contrato.
    #[serde(rename = "feeRate", default, skip_serializing_if = "Option::is_none")]
    pub fee_rate: Option<String>,
}

/// Tipo de encargo pactuado no contrato.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum EnumContractFinanceChargeType {
    /// `JUROS_REMUNERATORIOS_POR_ATRASO`
    #[serde(rename = "JUROS_REMUNERATORIOS_POR_ATRASO")]
    JurosRemuneratoriosPorAtraso,
    /// `MULTA_ATRASO_PAGAMENTO`
    #[serde(rename = "MULTA_ATRASO_PAGAMENTO")]
    MultaAtrasoPagamento,
    /// `JUROS_MORA_ATRASO`
    #[serde(rename = "JUROS_MORA_ATRASO")]
    JurosMoraAtraso,
    /// `IOF_CONTRATACAO`
    #[serde(rename = "IOF_CONTRATACAO")]
    IofContratacao,
    /// `IOF_POR_ATRASO`
    #[serde(rename = "IOF_POR_ATRASO")]
    IofPorAtraso,
    /// `SEM_ENCARGO`
    #[serde(rename = "SEM_ENCARGO")]
    SemEncargo,
    /// `OUTROS`
    #[serde(rename = "OUTROS")]
    Outros,
}

/// Conjunto de informações referentes à identificação da operação de crédito
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinancingsFinanceCharge {
    /// Tipo de encargo pactuado no contrato.
    #[serde(rename = "chargeType")]
    pub charge_type: EnumContractFinanceChargeType,
    /// Campo para informações adicionais.
    #[serde(
        rename = "chargeAdditionalInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub charge_additional_info: Option<String>,
    /// Representa o valor do encargo em percentual pactuado no contrato. O preenchimento deve respeitar as 6 casas decimais, mesmo que venham preenchidas com zeros(representação de porcentagem p.ex: 0.150000. Este valor representa 15%. O valor 1 representa 100%).
    #[serde(
        rename = "chargeRate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub charge_rate: Option<String>,
}

/// Conjunto de informações referentes à identificação da operação de crédito de financiamentos
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinancingsContract {
    /// Número do contrato dado pela instituição contratante.
    #[serde(rename = "contractNumber")]
    pub contract_number: String,
    /// "Número padronizado do contrato - IPOC (Identificação Padronizada da Operação de Crédito). Segundo DOC 3040, composta por: - **CNPJ da instituição:** 8 (oito) posições iniciais; - **Modalidade da operação:** 4 (quatro) posições; - **Tipo do cliente:** 1 (uma) posição( 1 = pessoa natural - CPF, 2=…
    #[serde(rename = "ipocCode")]
    pub ipoc_code: String,
    /// Denominação/Identificação do nome da Modalidade da Operação de Crédito divulgado ao cliente
    #[serde(rename = "productName")]
    pub product_name: String,
    /// "Tipo da modalidade de crédito contratada, conforme circular 4.015 e descrição do DOC3040 do SCR). (Vide Enum) Financiamentos, Financiamentos rurais e Financiamentos imobiliários"
    #[serde(rename = "productType")]
    pub product_type: EnumProductType,
    /// "Sub tipo da modalidades de crédito contratadas, conforme circular 4.015 e descrição do DOC3040 do SCR). (Vide Enum) Aquisição de bens veículos automotores, Aquisição de bens de outros bens, Microcrédito, Custeio, Investimento, Industrialização, Comercialização, Financiamento habitacional SFH e…
    #[serde(rename = "productSubType")]
    pub product_sub_type: EnumProductSubType,
    /// Data de contratação da operação de crédito. Especificação RFC-3339
    #[serde(rename = "contractDate")]
    pub contract_date: String,
    /// Lista que traz as Datas de Desembolso do valor contratado.
    #[serde(
        rename = "disbursementDates",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub disbursement_dates: Option<Vec<String>>,
    /// Data de liquidação da operação.
    #[serde(
        rename = "settlementDate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub settlement_date: Option<String>,
    /// Valor contratado da operação. Expresso em valor monetário com no mínimo 2 casas e no máximo 4 casas decimais. Nos casos em que não houver este valor explícito no contrato do produto, enviar como 0.00.
    #[serde(rename = "contractAmount")]
    pub contract_amount: String,
    /// Moeda referente ao valor da garantia, segundo modelo ISO-4217. p.ex. 'BRL' Todos os valores monetários informados estão representados com a moeda vigente do Brasil
    #[serde(rename = "currency", default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Data de vencimento Final da operação. Especificação RFC-3339.
    #[serde(rename = "dueDate", default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
    /// "Informação relativa à periodicidade regular das parcelas. (Vide Enum) sem periodicidade regular, semanal, quinzenal, mensal, bimestral, trimestral, semestral, anual"
    #[serde(rename = "instalmentPeriodicity")]
    pub instalment_periodicity: FinancingsContractInstalmentPeriodicity,
    /// Campo para complementar a informação relativa à periodicidade de pagamento regular.
    #[serde(
        rename = "instalmentPeriodicityAdditionalInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub instalment_periodicity_additional_info: Option<String>,
    /// Data de vencimento primeira parcela do principal.
    #[serde(
        rename = "firstInstalmentDueDate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub first_instalment_due_date: Option<String>,
    /// CET – Custo Efetivo Total deve ser expresso na forma de taxa percentual anual e incorpora todos os encargos e despesas incidentes nas operações de crédito (taxa de juro, mas também tarifas, tributos, seguros e outras despesas cobradas).
    #[serde(rename = "CET")]
    pub cet: String,
    /// Sistema de amortização (Vide Enum): - SAC (Sistema de Amortização Constante) - É aquele em que o valor da amortização permanece igual até o final. Os juros cobrados sobre o parcelamento não entram nesta conta. - PRICE (Sistema Francês de Amortização) - As parcelas são fixas do início ao fim do…
    #[serde(rename = "amortizationScheduled")]
    pub amortization_scheduled: FinancingsContractAmortizationScheduled,
    /// Campo para complementar a informação relativa à amortização.
    #[serde(
        rename = "amortizationScheduledAdditionalInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub amortization_scheduled_additional_info: Option<String>,
    /// Objeto que traz o conjunto de informações necessárias para demonstrar a composição das taxas de juros remuneratórios da Modalidade de crédito. Caso o contrato não possua taxas de juros, deve ser compartilhada uma lista vazia. Caso o contrato possua uma taxa de juros com valor 0, deve ser…
    #[serde(rename = "interestRates")]
    pub interest_rates: Vec<FinancingsContractInterestRate>,
    /// Lista que traz as informações das tarifas pactuadas no contrato.
    #[serde(rename = "contractedFees")]
    pub contracted_fees: Vec<FinancingsContractFee>,
    /// Lista que traz os encargos pactuados no contrato
    #[serde(rename = "contractedFinanceCharges")]
    pub contracted_finance_charges: Vec<FinancingsFinanceCharge>,
    /// Campo que identifica se existe seguro contratado para o Financiamento, onde seguro contratado é true e não contratado é false. O não envio do campo significa que a instituição não oferece este produto.
    #[serde(
        rename = "hasInsuranceContracted",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub has_insurance_contracted: Option<bool>,
}

/// Denominação/Identificação do tipo da garantia que avaliza a Modalidade da Operação de Crédito contratada (Doc 3040, Anexo 12)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum FinancingsWarrantiesWarrantyType {
    /// `CESSAO_DIREITOS_CREDITORIOS`
    #[serde(rename = "CESSAO_DIREITOS_CREDITORIOS")]
    CessaoDireitosCreditorios,
    /// `CAUCAO`
    #[serde(rename = "CAUCAO")]
    Caucao,
    /// `PENHOR`
    #[serde(rename = "PENHOR")]
    Penhor,
    /// `ALIENACAO_FIDUCIARIA`
    #[serde(rename = "ALIENACAO_FIDUCIARIA")]
    AlienacaoFiduciaria,
    /// `HIPOTECA`
    #[serde(rename = "HIPOTECA")]
    Hipoteca,
    /// `OPERACOES_GARANTIDAS_PELO_GOVERNO`
    #[serde(rename = "OPERACOES_GARANTIDAS_PELO_GOVERNO")]
    OperacoesGarantidasPeloGoverno,
    /// `OUTRAS_GARANTIAS_NAO_FIDEJUSSORIAS`
    #[serde(rename = "OUTRAS_GARANTIAS_NAO_FIDEJUSSORIAS")]
    OutrasGarantiasNaoFidejussorias,
    /// `SEGUROS_ASSEMELHADOS`
    #[serde(rename = "SEGUROS_ASSEMELHADOS")]
    SegurosAssemelhados,
    /// `GARANTIA_FIDEJUSSORIA`
    #[serde(rename = "GARANTIA_FIDEJUSSORIA")]
    GarantiaFidejussoria,
    /// `BENS_ARRENDADOS`
    #[serde(rename = "BENS_ARRENDADOS")]
    BensArrendados,
    /// `GARANTIAS_INTERNACIONAIS`
    #[serde(rename = "GARANTIAS_INTERNACIONAIS")]
    GarantiasInternacionais,
    /// `OPERACOES_GARANTIDAS_OUTRAS_ENTIDADES`
    #[serde(rename = "OPERACOES_GARANTIDAS_OUTRAS_ENTIDADES")]
    OperacoesGarantidasOutrasEntidades,
    /// `ACORDOS_COMPENSACAO`
    #[serde(rename = "ACORDOS_COMPENSACAO")]
    AcordosCompensacao,
}

/// Denominação/Identificação do sub tipo da garantia que avaliza a Modalidade da Operação de Crédito contratada (Doc 3040, Anexo 12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum FinancingsWarrantiesWarrantySubType {
    /// `ACOES_DEBENTURES`
    #[serde(rename = "ACOES_DEBENTURES")]
    AcoesDebentures,
    /// `ACORDOS_COMPENSACAO_LIQUIDACAO_OBRIGACOES`
    #[serde(rename = "ACORDOS_COMPENSACAO_LIQUIDACAO_OBRIGACOES")]
    AcordosCompensacaoLiquidacaoObrigacoes,
    /// `APLICACOES_FINANCEIRAS_RENDA_FIXA`
    #[serde(rename = "APLICACOES_FINANCEIRAS_RENDA_FIXA")]
    AplicacoesFinanceirasRendaFixa,
    /// `APLICACOES_FINANCEIRAS_RENDA_VARIAVEL`
    #[serde(rename = "APLICACOES_FINANCEIRAS_RENDA_VARIAVEL")]
    AplicacoesFinanceirasRendaVariavel,
    /// `APOLICES_CREDITO_EXPORTACAO`
    #[serde(rename = "APOLICES_CREDITO_EXPORTACAO")]
    ApolicesCreditoExportacao,
    /// `CCR_CONVENIO_CREDITOS_RECIPROCOS`
    #[serde(rename = "CCR_CONVENIO_CREDITOS_RECIPROCOS")]
    CcrConvenioCreditosReciprocos,
    /// `CHEQUES`
    #[serde(rename = "CHEQUES")]
    Cheques,
    /// `CIVIL`
    #[serde(rename = "CIVIL")]
    Civil,
    /// `DIREITOS_SOBRE_ALUGUEIS`
    #[serde(rename = "DIREITOS_SOBRE_ALUGUEIS")]
    DireitosSobreAlugueis,
    /// `DEPOSITOS_A_VISTA_A_PRAZO_POUPANCA_OURO_TITULOS_PUBLICOS_FEDERAIS_ART_36`
    #[serde(rename = "DEPOSITOS_A_VISTA_A_PRAZO_POUPANCA_OURO_TITULOS_PUBLICOS_FEDERAIS_ART_36")]
    DepositosAVistaAPrazoPoupancaOuroTitulosPublicosFederaisArt36,
    /// `DEPOSITO_TITULOS_EMITIDOS_ENTIDADES_ART_23`
    #[serde(rename = "DEPOSITO_TITULOS_EMITIDOS_ENTIDADES_ART_23")]
    DepositoTitulosEmitidosEntidadesArt23,
    /// `DUPLICATAS`
    #[serde(rename = "DUPLICATAS")]
    Duplicatas,
    /// `EMD_ENTIDADES_MULTILATERAIS_DESENVOLVIMENTO_ART_37`
    #[serde(rename = "EMD_ENTIDADES_MULTILATERAIS_DESENVOLVIMENTO_ART_37")]
    EmdEntidadesMultilateraisDesenvolvimentoArt37,
    /// `EQUIPAMENTOS`
    #[serde(rename = "EQUIPAMENTOS")]
    Equipamentos,
    /// `ESTADUAL_OU_DISTRITAL`
    #[serde(rename = "ESTADUAL_OU_DISTRITAL")]
    EstadualOuDistrital,
    /// `FATURA_CARTAO_CREDITO`
    #[serde(rename = "FATURA_CARTAO_CREDITO")]
    FaturaCartaoCredito,
    /// `FEDERAL`
    #[serde(rename = "FEDERAL")]
    Federal,
    /// `FCVS_FUNDO_COMPENSACAO_VARIACOES_SALARIAIS`
    #[serde(rename = "FCVS_FUNDO_COMPENSACAO_VARIACOES_SALARIAIS")]
    FcvsFundoCompensacaoVariacoesSalariais,
    /// `FGI_FUNDO_GARANTIDOR_INVESTIMENTOS`
    #[serde(rename = "FGI_FUNDO_GARANTIDOR_INVESTIMENTOS")]
    FgiFundoGarantidorInvestimentos,
    /// `FGPC_FUNDO_GARANTIA_PROMOCAO_COMPETIT`
    #[serde(rename = "FGPC_FUNDO_GARANTIA_PROMOCAO_COMPETIT")]
    FgpcFundoGarantiaPromocaoCompetit,
    /// `FGTS_FUNDO_GARANTIA_TEMPO_SERVICO`
    #[serde(rename = "FGTS_FUNDO_GARANTIA_TEMPO_SERVICO")]
    FgtsFundoGarantiaTempoServico,
    /// `FUNDO_GARANTIDOR_AVAL`
    #[serde(rename = "FUNDO_GARANTIDOR_AVAL")]
    FundoGarantidorAval,
    /// `GARANTIA_PRESTADA_FGPC_LEI_9531_ART_37`
    #[serde(rename = "GARANTIA_PRESTADA_FGPC_LEI_9531_ART_37")]
    GarantiaPrestadaFgpcLei9531Art37,
    /// `GARANTIA_PRESTADA_FUNDOS_QUAISQUER_OUTROS_MECANISMOS_COBERTURA_RISCO_CREDITO_ART_37`
    #[serde(
        rename = "GARANTIA_PRESTADA_FUNDOS_QUAISQUER_OUTROS_MECANISMOS_COBERTURA_RISCO_CREDITO_ART_37"
    )]
    GarantiaPrestadaFundosQuaisquerOutrosMecanismosCoberturaRiscoCreditoArt37,
    /// `GARANTIA_PRESTADA_TESOURO_NACIONAL_OU_BACEN_ART_37_BENS_DIREITOS_INTEGRANTES_PATRIMONIO_AFETACAO`
    #[serde(
        rename = "GARANTIA_PRESTADA_TESOURO_NACIONAL_OU_BACEN_ART_37_BENS_DIREITOS_INTEGRANTES_PATRIMONIO_AFETACAO"
    )]
    GarantiaPrestadaTesouroNacionalOuBacenArt37BensDireitosIntegrantesPatrimonioAfetacao,
    /// `IMOVEIS`
    #[serde(rename = "IMOVEIS")]
    Imoveis,
    /// `IMOVEIS_RESIDENCIAIS`
    #[serde(rename = "IMOVEIS_RESIDENCIAIS")]
    ImoveisResidenciais,
    /// `MITIGADORAS`
    #[serde(rename = "MITIGADORAS")]
    Mitigadoras,
    /// `MUNICIPAL`
    #[serde(rename = "MUNICIPAL")]
    Municipal,
    /// `NAO_MITIGADORAS`
    #[serde(rename = "NAO_MITIGADORAS")]
    NaoMitigadoras,
    /// `NOTAS_PROMISSORIAS_OUTROS_DIREITOS_CREDITO`
    #[serde(rename = "NOTAS_PROMISSORIAS_OUTROS_DIREITOS_CREDITO")]
    NotasPromissoriasOutrosDireitosCredito,
    /// `OUTRAS`
    #[serde(rename = "OUTRAS")]
    Outras,
    /// `OUTROS`
    #[serde(rename = "OUTROS")]
    Outros,
    /// `OUTROS_BENS`
    #[serde(rename = "OUTROS_BENS")]
    OutrosBens,
    /// `OUTROS_GRAUS`
    #[serde(rename = "OUTROS_GRAUS")]
    OutrosGraus,
    /// `OUTROS_IMOVEIS`
    #[serde(rename = "OUTROS_IMOVEIS")]
    OutrosImoveis,
    /// `OUTROS_SEGUROS_ASSEMELHADOS`
    #[serde(rename = "OUTROS_SEGUROS_ASSEMELHADOS")]
    OutrosSegurosAssemelhados,
    /// `PESSOA_FISICA`
    #[serde(rename = "PESSOA_FISICA")]
    PessoaFisica,
    /// `PESSOA_FISICA_EXTERIOR`
    #[serde(rename = "PESSOA_FISICA_EXTERIOR")]
    PessoaFisicaExterior,
    /// `PESSOA_JURIDICA`
    #[serde(rename = "PESSOA_JURIDICA")]
    PessoaJuridica,
    /// `PESSOA_JURIDICA_EXTERIOR`
    #[serde(rename = "PESSOA_JURIDICA_EXTERIOR")]
    PessoaJuridicaExterior,
    /// `PRIMEIRO_GRAU_BENS_DIREITOS_INTEGRANTES_PATRIMONIO_AFETACAO`
    #[serde(rename = "PRIMEIRO_GRAU_BENS_DIREITOS_INTEGRANTES_PATRIMONIO_AFETACAO")]
    PrimeiroGrauBensDireitosIntegrantesPatrimonioAfetacao,
    /// `PRIMEIRO_GRAU_IMOVEIS_RESIDENCIAIS`
    #[serde(rename = "PRIMEIRO_GRAU_IMOVEIS_RESIDENCIAIS")]
    PrimeiroGrauImoveisResidenciais,
    /// `PRIMEIRO_GRAU_OUTROS`
    #[serde(rename = "PRIMEIRO_GRAU_OUTROS")]
    PrimeiroGrauOutros,
    /// `PROAGRO`
    #[serde(rename = "PROAGRO")]
    Proagro,
    /// `PRODUTOS_AGROPECUARIOS_COM_WARRANT`
    #[serde(rename = "PRODUTOS_AGROPECUARIOS_COM_WARRANT")]
    ProdutosAgropecuariosComWarrant,
    /// `PRODUTOS_AGROPECUARIOS_SEM_WARRANT`
    #[serde(rename = "PRODUTOS_AGROPECUARIOS_SEM_WARRANT")]
    ProdutosAgropecuariosSemWarrant,
    /// `SBCE_SOCIEDADE_BRASILEIRA_CREDITO_EXPORTAÇÃO`
    #[serde(rename = "SBCE_SOCIEDADE_BRASILEIRA_CREDITO_EXPORTAÇÃO")]
    SbceSociedadeBrasileiraCreditoExportaO,
    /// `SEGURO_RURAL`
    #[serde(rename = "SEGURO_RURAL")]
    SeguroRural,
    /// `SEM_SUB_TIPO_GARANTIA`
    #[serde(rename = "SEM_SUB_TIPO_GARANTIA")]
    SemSubTipoGarantia,
    /// `TRIBUTOS_RECEITAS_ORCAMENTARIAS`
    #[serde(rename = "TRIBUTOS_RECEITAS_ORCAMENTARIAS")]
    TributosReceitasOrcamentarias,
    /// `VEICULOS`
    #[serde(rename = "VEICULOS")]
    Veiculos,
    /// `VEICULOS_AUTOMOTORES`
    #[serde(rename = "VEICULOS_AUTOMOTORES")]
    VeiculosAutomotores,
}

/// Conjunto de informações referentes à identificação da operação de crédito de financiamento.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinancingsWarranties {
    /// Moeda referente ao valor da garantia, segundo modelo ISO-4217. p.ex. 'BRL'. Todos os valores monetários informados estão representados com a moeda vigente do Brasil
    #[serde(rename = "currency")]
    pub currency: String,
    /// Denominação/Identificação do tipo da garantia que avaliza a Modalidade da Operação de Crédito contratada (Doc 3040, Anexo 12)
    #[serde(rename = "warrantyType")]
    pub warranty_type: FinancingsWarrantiesWarrantyType,
    /// Denominação/Identificação do sub tipo da garantia que avaliza a Modalidade da Operação de Crédito contratada (Doc 3040, Anexo 12).
    #[serde(rename = "warrantySubType")]
    pub warranty_sub_type: FinancingsWarrantiesWarrantySubType,
    /// Valor original da garantia. Expresso em valor monetário com no mínimo 2 casas e no máximo 4 casas decimais.
    #[serde(rename = "warrantyAmount")]
    pub warranty_amount: String,
}

/// Tipo de prazo total do contrato referente à modalidade de crédito informada.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum FinancingsInstalmentsTypeNumberOfInstalments {
    /// `DIA`
    #[serde(rename = "DIA")]
    Dia,
    /// `SEMANA`
    #[serde(rename = "SEMANA")]
    Semana,
    /// `MES`
    #[serde(rename = "MES")]
    Mes,
    /// `ANO`
    #[serde(rename = "ANO")]
    Ano,
    /// `SEM_PRAZO_TOTAL`
    #[serde(rename = "SEM_PRAZO_TOTAL")]
    SemPrazoTotal,
}

/// Tipo de prazo remanescente do contrato referente à modalidade de crédito informada.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum FinancingsInstalmentsTypeContractRemaining {
    /// `DIA`
    #[serde(rename = "DIA")]
    Dia,
    /// `SEMANA`
    #[serde(rename = "SEMANA")]
    Semana,
    /// `MES`
    #[serde(rename = "MES")]
    Mes,
    /// `ANO`
    #[serde(rename = "ANO")]
    Ano,
    /// `SEM_PRAZO_REMANESCENTE`
    #[serde(rename = "SEM_PRAZO_REMANESCENTE")]
    SemPrazoRemanescente,
}

/// Valor monetário da parcela não regular a vencer
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinancingsBalloonPaymentAmount {
    /// Valor monetário da parcela não regular a vencer. Expresso em valor monetário com no mínimo 2 casas e no máximo 4 casas decimais.
    #[serde(rename = "amount")]
    pub amount: String,
    /// Moeda referente ao valor monetário, seguindo o modelo ISO-4217.
    #[serde(rename = "currency")]
    pub currency: String,
}

/// Lista que traz as datas de vencimento e valor das parcelas não regulares do contrato da modalidade de crédito consultada.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinancingsBalloonPayment {
    /// Data de vencimento da parcela não regular a vencer do contrato da modalidade de crédito consultada, conforme especificação RFC-3339. p.ex. 2014-03-19
    #[serde(rename = "dueDate")]
    pub due_date: String,
    /// Valor monetário da parcela não regular a vencer
    #[serde(rename = "amount")]
    pub amount: FinancingsBalloonPaymentAmount,
}

/// Conjunto de informações referentes às parcelas / prestações da operação de crédito de financiamentos contratada
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinancingsInstalments {
    /// Tipo de prazo total do contrato referente à modalidade de crédito informada.
    #[serde(rename = "typeNumberOfInstalments")]
    pub type_number_of_instalments: FinancingsInstalmentsTypeNumberOfInstalments,
    /// Prazo Total segundo o tipo (dia, semana, mês, ano) referente à Modalidade de Crédito informada.
    #[serde(
        rename = "totalNumberOfInstalments",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub total_number_of_instalments: Option<serde_json::Number>,
    /// Tipo de prazo remanescente do contrato referente à modalidade de crédito informada.
    #[serde(rename = "typeContractRemaining")]
    pub type_contract_remaining: FinancingsInstalmentsTypeContractRemaining,
    /// Prazo Remanescente segundo o tipo (dia, semana, mês, ano) referente à Modalidade de Crédito informada.
    #[serde(
        rename = "contractRemainingNumber",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub contract_remaining_number: Option<serde_json::Number>,
    /// Quantidade de prestações pagas. (No caso de modalidades que não possuam parcelas, o número de prestações é igual a zero)
    #[serde(rename = "paidInstalments")]
    pub paid_instalments: serde_json::Number,
    /// Quantidade de prestações a vencer.
    #[serde(
        rename = "dueInstalments",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub due_instalments: Option<serde_json::Number>,
    /// Quantidade de prestações vencidas.
    #[serde(
        rename = "pastDueInstalments",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub past_due_instalments: Option<serde_json::Number>,
    /// Lista que traz as datas de vencimento e valor das parcelas não regulares do contrato da modalidade de crédito consultada
    #[serde(
        rename = "balloonPayments",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub balloon_payments: Option<Vec<FinancingsBalloonPayment>>,
}

/// `FinancingsFeeOverParcel`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinancingsFeeOverParcel {
    /// Denominação da Tarifa pactuada.
    #[serde(rename = "feeName")]
    pub fee_name: String,
    /// Sigla identificadora da tarifa pactuada.
    #[serde(rename = "feeCode")]
    pub fee_code: String,
    /// Valor monetário da tarifa pactuada no contrato.
    #[serde(rename = "feeAmount")]
    pub fee_amount: String,
}

/// `FinancingsChargeOverParcel`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinancingsChargeOverParcel {
    /// Tipo de encargo pactuado no contrato.
    #[serde(rename = "chargeType")]
    pub charge_type: EnumContractFinanceChargeType,
    /// Valor do pagamento do encargo pago fora da parcela. Expresso em valor monetário com no mínimo 2 casas e no máximo 4 casas decimais.
    #[serde(rename = "chargeAmount")]
    pub charge_amount: String,
    /// Campo livre para preenchimento das informações adicionais referente ao encargo.
    #[serde(
        rename = "chargeAdditionalInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub charge_additional_info: Option<String>,
}

/// Objeto das tarifas e encargos que foram pagos fora da parcela.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinancingsOverParcel {
    /// Lista das tarifas que foram pagas fora da parcela, só para pagamento avulso.
    #[serde(rename = "fees")]
    pub fees: Vec<FinancingsFeeOverParcel>,
    /// Lista dos encargos que foram pagos fora da parcela.
    #[serde(rename = "charges")]
    pub charges: Vec<FinancingsChargeOverParcel>,
}

/// Lista dos pagamentos realizados no período
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinancingsReleases {
    /// Código ou identificador único prestado pela instituição para representar o pagamento individual.
    #[serde(rename = "paymentId")]
    pub payment_id: String,
    /// Identifica se é um pagamento pactuado (false) ou avulso (true).
    #[serde(rename = "isOverParcelPayment")]
    pub is_over_parcel_payment: bool,
    /// Identificador de parcela, de responsabilidade de cada Instituição transmissora. \[Restrição\] Informação de envio obrigatório quando isOverParcelPayment tiver o valor FALSE.
    #[serde(
        rename = "instalmentId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub instalment_id: Option<String>,
    /// Data efetiva do pagamento referente ao contrato da modalidade de crédito consultada, conforme especificação RFC-3339. p.ex. 2014-03-19
    #[serde(rename = "paidDate")]
    pub paid_date: String,
    /// Moeda referente ao valor monetário informado, segundo modelo ISO-4217. p.ex. 'BRL'. Todos os valores monetários informados estão representados com a moeda vigente do Brasil.
    #[serde(rename = "currency")]
    pub currency: String,
    /// Valor do pagamento referente ao contrato da modalidade de crédito consultada. Expresso em valor monetário com no mínimo 2 casas e no máximo 4 casas decimais.
    #[serde(rename = "paidAmount")]
    pub paid_amount: String,
    /// Objeto das tarifas e encargos que foram pagos fora da parcela.
    #[serde(
        rename = "overParcel",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub over_parcel: Option<FinancingsOverParcel>,
}

/// Conjunto de informações referentes aos pagamentos realizados de uma operação de crédito de adiantamento a depositantes
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinancingsPayments {
    /// Quantidade total de parcelas pagas do contrato referente à Modalidade de Crédito informada.
    #[serde(
        rename = "paidInstalments",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub paid_instalments: Option<serde_json::Number>,
    /// Valor necessário para o cliente liquidar a dívida, ou seja, este campo deve ser preenchido com o saldo devedor atualizado descrito no DDC (Documento Descritivo de Crédito).
    #[serde(rename = "contractOutstandingBalance")]
    pub contract_outstanding_balance: String,
    /// Lista dos pagamentos realizados no período
    #[serde(rename = "releases")]
    pub releases: Vec<FinancingsReleases>,
}
