//! Credit-card accounts API 2.3.1 models (`credit-cards`), generated from the official OpenAPI
//! file by `tools/gen_connector_models.py`. Do not edit by hand.
//!
//! | endpoint | `data` |
//! |---|---|
//! | `GET /accounts` | list of [`CreditCardAccountsData`] |
//! | `GET /accounts/{creditCardAccountId}` | [`CreditCardsAccountsIdentificationData`] |
//! | `GET /accounts/{creditCardAccountId}/bills` | list of [`CreditCardAccountsBillsData`] |
//! | `GET /accounts/{creditCardAccountId}/bills/{billId}/transactions` | list of [`CreditCardAccountsBillsTransactions`] |
//! | `GET /accounts/{creditCardAccountId}/limits` | list of [`CreditCardAccountsLimitsData`] |
//! | `GET /accounts/{creditCardAccountId}/transactions` | list of [`CreditCardAccountsTransaction`] |
//! | `GET /accounts/{creditCardAccountId}/transactions-current` | list of [`CreditCardAccountsTransaction`] |

#![allow(clippy::doc_markdown)]

use serde::{Deserialize, Serialize};

/// Categoria atribuída a um cartão de pagamento, sob uma certa denominação, que lhe agrega um conjunto de vantagens, diferenciando-o de acordo com o perfil do portador.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum EnumCreditCardAccountsProductType {
    /// `CLASSIC_NACIONAL`
    #[serde(rename = "CLASSIC_NACIONAL")]
    ClassicNacional,
    /// `CLASSIC_INTERNACIONAL`
    #[serde(rename = "CLASSIC_INTERNACIONAL")]
    ClassicInternacional,
    /// `GOLD`
    #[serde(rename = "GOLD")]
    Gold,
    /// `PLATINUM`
    #[serde(rename = "PLATINUM")]
    Platinum,
    /// `INFINITE`
    #[serde(rename = "INFINITE")]
    Infinite,
    /// `ELECTRON`
    #[serde(rename = "ELECTRON")]
    Electron,
    /// `STANDARD_NACIONAL`
    #[serde(rename = "STANDARD_NACIONAL")]
    StandardNacional,
    /// `STANDARD_INTERNACIONAL`
    #[serde(rename = "STANDARD_INTERNACIONAL")]
    StandardInternacional,
    /// `ELETRONIC`
    #[serde(rename = "ELETRONIC")]
    Eletronic,
    /// `BLACK`
    #[serde(rename = "BLACK")]
    Black,
    /// `REDESHOP`
    #[serde(rename = "REDESHOP")]
    Redeshop,
    /// `MAESTRO_MASTERCARD_MAESTRO`
    #[serde(rename = "MAESTRO_MASTERCARD_MAESTRO")]
    MaestroMastercardMaestro,
    /// `GREEN`
    #[serde(rename = "GREEN")]
    Green,
    /// `BLUE`
    #[serde(rename = "BLUE")]
    Blue,
    /// `BLUEBOX`
    #[serde(rename = "BLUEBOX")]
    Bluebox,
    /// `PROFISSIONAL_LIBERAL`
    #[serde(rename = "PROFISSIONAL_LIBERAL")]
    ProfissionalLiberal,
    /// `CHEQUE_ELETRONICO`
    #[serde(rename = "CHEQUE_ELETRONICO")]
    ChequeEletronico,
    /// `CORPORATIVO`
    #[serde(rename = "CORPORATIVO")]
    Corporativo,
    /// `EMPRESARIAL`
    #[serde(rename = "EMPRESARIAL")]
    Empresarial,
    /// `COMPRAS`
    #[serde(rename = "COMPRAS")]
    Compras,
    /// `BASICO_NACIONAL`
    #[serde(rename = "BASICO_NACIONAL")]
    BasicoNacional,
    /// `BASICO_INTERNACIONAL`
    #[serde(rename = "BASICO_INTERNACIONAL")]
    BasicoInternacional,
    /// `NANQUIM`
    #[serde(rename = "NANQUIM")]
    Nanquim,
    /// `GRAFITE`
    #[serde(rename = "GRAFITE")]
    Grafite,
    /// `MAIS`
    #[serde(rename = "MAIS")]
    Mais,
    /// `OUTROS`
    #[serde(rename = "OUTROS")]
    Outros,
}

/// Categoria de Bandeiras de Cartões de Crédito (Instituidor do arranjo de pagamento). Bandeira é a detentora de todos os direitos e deveres da utilização da marca estampada no cartão, inclusive as bandeiras pertencentes aos emissores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum EnumCreditCardAccountNetwork {
    /// `VISA`
    #[serde(rename = "VISA")]
    Visa,
    /// `MASTERCARD`
    #[serde(rename = "MASTERCARD")]
    Mastercard,
    /// `AMERICAN_EXPRESS`
    #[serde(rename = "AMERICAN_EXPRESS")]
    AmericanExpress,
    /// `DINERS_CLUB`
    #[serde(rename = "DINERS_CLUB")]
    DinersClub,
    /// `HIPERCARD`
    #[serde(rename = "HIPERCARD")]
    Hipercard,
    /// `BANDEIRA_PROPRIA`
    #[serde(rename = "BANDEIRA_PROPRIA")]
    BandeiraPropria,
    /// `CHEQUE_ELETRONICO`
    #[serde(rename = "CHEQUE_ELETRONICO")]
    ChequeEletronico,
    /// `ELO`
    #[serde(rename = "ELO")]
    Elo,
    /// `OUTRAS`
    #[serde(rename = "OUTRAS")]
    Outras,
}

/// Conjunto de informações das Contas de pagamento pós paga
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreditCardAccountsData {
    /// Identifica de forma única a conta pagamento pós-paga do cliente, mantendo as regras de imutabilidade dentro da instituição transmissora.
    #[serde(rename = "creditCardAccountId")]
    pub credit_card_account_id: String,
    /// Nome da Marca reportada pelo participante no Open Finance. Recomenda-se utilizar, sempre que possível, o mesmo nome de marca atribuído no campo do diretório Customer Friendly Server Name (Authorisation Server).
    #[serde(rename = "brandName")]
    pub brand_name: String,
    /// Número completo do CNPJ da instituição responsável pelo Cadastro - o CNPJ corresponde ao número de inscrição no Cadastro de Pessoa Jurídica. Deve-se ter apenas os números do CNPJ, sem máscara
    #[serde(rename = "companyCnpj")]
    pub company_cnpj: String,
    /// Denominação/Identificação do nome da conta de pagamento pós-paga (cartão). Conforme CIRCULAR Nº 3.680,BCB, 2013: 'conta de pagamento pós-paga: destinada à execução de transações de pagamento que independem do aporte prévio de recursos
    #[serde(rename = "name")]
    pub name: String,
    /// Categoria atribuída a um cartão de pagamento, sob uma certa denominação, que lhe agrega um conjunto de vantagens, diferenciando-o de acordo com o perfil do portador.
    #[serde(rename = "productType")]
    pub product_type: EnumCreditCardAccountsProductType,
    /// Informações complementares se tipo de Cartão 'OUTROS'
    #[serde(
        rename = "productAdditionalInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub product_additional_info: Option<String>,
    /// Categoria de Bandeiras de Cartões de Crédito (Instituidor do arranjo de pagamento). Bandeira é a detentora de todos os direitos e deveres da utilização da marca estampada no cartão, inclusive as bandeiras pertencentes aos emissores.
    #[serde(rename = "creditCardNetwork")]
    pub credit_card_network: EnumCreditCardAccountNetwork,
    /// Texto livre para especificar categoria de bandeira marcada como 'OUTRAS'
    #[serde(
        rename = "networkAdditionalInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub network_additional_info: Option<String>,
}

/// Conjunto de informações relativas aos Meios de Pagamento da Conta de pagamento pós-paga
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreditCardsAccountPaymentMethod {
    /// Número de identificação do cartão: corresponde aos 4 últimos dígitos do cartão para pessoa natural, ou então, preencher com um identificador para pessoa jurídica, com as características definidas para os IDs no Open Finance.
    #[serde(rename = "identificationNumber")]
    pub identification_number: String,
    /// Indica se o Cartão de crédito associado à conta pagamento pós-paga é múltiplo ou não. Cartões denominados múltiplos possuem tanto a função crédito quanto a função débito, devendo o proprietário do cartão, no momento de sua utilização, informar se o pagamento é na função crédito (que leva a um…
    #[serde(rename = "isMultipleCreditCard")]
    pub is_multiple_credit_card: bool,
}

/// Conjunto de informações referentes à identificação da conta de pagamento pós-paga.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreditCardsAccountsIdentificationData {
    /// Denominação/Identificação do nome da conta de pagamento pós-paga (cartão). Conforme CIRCULAR Nº 3.680,BCB, 2013: 'conta de pagamento pós-paga: destinada à execução de transações de pagamento que independem do aporte prévio de recursos'.
    #[serde(rename = "name")]
    pub name: String,
    /// Categoria atribuída a um cartão de pagamento, sob uma certa denominação, que lhe agrega um conjunto de vantagens, diferenciando-o de acordo com o perfil do portador.
    #[serde(rename = "productType")]
    pub product_type: EnumCreditCardAccountsProductType,
    /// Informações complementares se tipo de Cartão 'OUTROS'
    #[serde(
        rename = "productAdditionalInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub product_additional_info: Option<String>,
    /// Categoria de Bandeiras de Cartões de Crédito (Instituidor do arranjo de pagamento). Bandeira é a detentora de todos os direitos e deveres da utilização da marca estampada no cartão, inclusive as bandeiras pertencentes aos emissores.
    #[serde(rename = "creditCardNetwork")]
    pub credit_card_network: EnumCreditCardAccountNetwork,
    /// Texto livre para especificar categoria de bandeira marcada como 'OUTRAS'.
    #[serde(
        rename = "networkAdditionalInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub network_additional_info: Option<String>,
    /// Listagem dos cartões (ex.: virtual/adicional/titular) associados a conta cartão consentida, conforme disponíveis ao usuário nos canais proprietários.
    #[serde(rename = "paymentMethod")]
    pub payment_method: Vec<CreditCardsAccountPaymentMethod>,
}

/// Valor total da faturas. O campo deve assumir valor positivo para saldo devedor e negativo para saldo credor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreditCardsBillTotalAmount {
    /// Valor total da faturas. Expresso em valor monetário com no mínimo 2 casas e no máximo 4 casas decimais.
    #[serde(rename = "amount")]
    pub amount: String,
    /// Moeda referente ao valor monetário, seguindo o modelo ISO-4217.
    #[serde(rename = "currency")]
    pub currency: String,
}

/// Valor do pagamento minimo da fatura
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreditCardAccountsBillMinimumAmount {
    /// Valor do pagamento minimo da fatura
    #[serde(rename = "amount")]
    pub amount: String,
    /// Moeda referente ao valor monetário, seguindo o modelo ISO-4217.
    #[serde(rename = "currency")]
    pub currency: String,
}

/// Traz a denominação dos Encargos que incidem na fatura da conta de pagamento pós-paga. (Vide Enum) - Juros remuneratórios por atraso no pagamento da fatura - Multa por atraso no pagamento da fatura - Juros de mora por atraso no pagamento da fatura - IOF - Outros
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum EnumCreditCardAccountsFinanceChargeType {
    /// `JUROS_REMUNERATORIOS_ATRASO_PAGAMENTO_FATURA`
    #[serde(rename = "JUROS_REMUNERATORIOS_ATRASO_PAGAMENTO_FATURA")]
    JurosRemuneratoriosAtrasoPagamentoFatura,
    /// `MULTA_ATRASO_PAGAMENTO_FATURA`
    #[serde(rename = "MULTA_ATRASO_PAGAMENTO_FATURA")]
    MultaAtrasoPagamentoFatura,
    /// `JUROS_MORA_ATRASO_PAGAMENTO_FATURA`
    #[serde(rename = "JUROS_MORA_ATRASO_PAGAMENTO_FATURA")]
    JurosMoraAtrasoPagamentoFatura,
    /// `IOF`
    #[serde(rename = "IOF")]
    Iof,
    /// `OUTROS`
    #[serde(rename = "OUTROS")]
    Outros,
}

/// `CreditCardAccountsBillsFinanceCharge`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreditCardAccountsBillsFinanceCharge {
    /// Traz a denominação dos Encargos que incidem na fatura da conta de pagamento pós-paga. (Vide Enum) - Juros remuneratórios por atraso no pagamento da fatura - Multa por atraso no pagamento da fatura - Juros de mora por atraso no pagamento da fatura - IOF - Outros
    #[serde(rename = "type")]
    pub type_: EnumCreditCardAccountsFinanceChargeType,
    /// Campo livre, de preenchimento obrigatório se selecionado tipo de encargo 'OUTROS'
    #[serde(
        rename = "additionalInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub additional_info: Option<String>,
    /// Valor cobrado pelo encargo. Expresso em valor monetário com no mínimo 2 casas e no máximo 4 casas decimais.
    #[serde(rename = "amount")]
    pub amount: String,
    /// Moeda referente ao valor cobrado pelo encargo, segundo modelo ISO-4217. p.ex. 'BRL' Todos os saldos informados estão representados com a moeda vigente do Brasil.
    #[serde(rename = "currency")]
    pub currency: String,
}

/// Traz os tipos dos valores relativos aos pagamentos da fatura da conta de pagamento pós-paga: (Vide Enum) - Valor de pagamento da fatura com parcelamento - Valor pagamento da fatura realizado - Outro Valor pago na fatura
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum EnumCreditCardAccountsBillingValueType {
    /// `VALOR_PAGAMENTO_FATURA_PARCELADO`
    #[serde(rename = "VALOR_PAGAMENTO_FATURA_PARCELADO")]
    ValorPagamentoFaturaParcelado,
    /// `VALOR_PAGAMENTO_FATURA_REALIZADO`
    #[serde(rename = "VALOR_PAGAMENTO_FATURA_REALIZADO")]
    ValorPagamentoFaturaRealizado,
    /// `OUTRO_VALOR_PAGO_FATURA`
    #[serde(rename = "OUTRO_VALOR_PAGO_FATURA")]
    OutroValorPagoFatura,
}

/// Traz as formas de efetivação do pagamento realizado: (Vide Enum) - Débito em conta corrente - Boleto bancário - Averbação em folha - PIX
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum EnumCreditCardAccountsPaymentMode {
    /// `DEBITO_CONTA_CORRENTE`
    #[serde(rename = "DEBITO_CONTA_CORRENTE")]
    DebitoContaCorrente,
    /// `BOLETO_BANCARIO`
    #[serde(rename = "BOLETO_BANCARIO")]
    BoletoBancario,
    /// `AVERBACAO_FOLHA`
    #[serde(rename = "AVERBACAO_FOLHA")]
    AverbacaoFolha,
    /// `PIX`
    #[serde(rename = "PIX")]
    Pix,
}

/// `CreditCardAccountsBillsPayment`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreditCardAccountsBillsPayment {
    /// Traz os tipos dos valores relativos aos pagamentos da fatura da conta de pagamento pós-paga: (Vide Enum) - Valor de pagamento da fatura com parcelamento - Valor pagamento da fatura realizado - Outro Valor pago na fatura
    #[serde(rename = "valueType")]
    pub value_type: EnumCreditCardAccountsBillingValueType,
    /// Data efetiva de quando o Pagamento da fatura foi realizado
    #[serde(rename = "paymentDate")]
    pub payment_date: String,
    /// Traz as formas de efetivação do pagamento realizado: (Vide Enum) - Débito em conta corrente - Boleto bancário - Averbação em folha - PIX
    #[serde(rename = "paymentMode")]
    pub payment_mode: EnumCreditCardAccountsPaymentMode,
    /// Valor pagamento segundo o valueType. Expresso em valor monetário com no mínimo 2 casas e no máximo 4 casas decimais. O campo não pode assumir valor negativo por se tratar de um pagamento.
    #[serde(rename = "amount")]
    pub amount: String,
    /// Moeda referente ao valor de pagamento da fatura, segundo modelo ISO-4217. p.ex. 'BRL' Todos os valores informados estão representados com a moeda vigente do Brasil
    #[serde(rename = "currency")]
    pub currency: String,
}

/// Conjunto das informações referentes a lista de faturas associadas à conta de pagamento pós-paga
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreditCardAccountsBillsData {
    /// Informação que identifica a fatura
    #[serde(rename = "billId")]
    pub bill_id: String,
    /// Data de vencimento da Fatura, que aparece para pagamento pelo cliente
    #[serde(rename = "dueDate")]
    pub due_date: String,
    /// Valor total da faturas. O campo deve assumir valor positivo para saldo devedor e negativo para saldo credor.
    #[serde(rename = "billTotalAmount")]
    pub bill_total_amount: CreditCardsBillTotalAmount,
    /// Valor do pagamento minimo da fatura
    #[serde(rename = "billMinimumAmount")]
    pub bill_minimum_amount: CreditCardAccountsBillMinimumAmount,
    /// Indica se a fatura permite parcelamento (true) ou não (false).
    #[serde(rename = "isInstalment")]
    pub is_instalment: bool,
    /// Lista dos encargos cobrados na fatura
    #[serde(
        rename = "financeCharges",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub finance_charges: Option<Vec<CreditCardAccountsBillsFinanceCharge>>,
    /// Lista que traz os valores relativos aos pagamentos da Fatura da conta de pagamento pós-paga
    #[serde(rename = "payments")]
    pub payments: Vec<CreditCardAccountsBillsPayment>,
}

/// Indicador do tipo de lançamento: Débito (no extrato) Em um extrato bancário, os débitos, marcados com a letra “D” ao lado do valor registrado, informam as saídas de dinheiro na conta-corrente. Crédito (no extrato) Em um extrato bancário, os créditos, marcados com a letra “C” ao lado do valor…
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum EnumCreditDebitIndicator {
    /// `CREDITO`
    #[serde(rename = "CREDITO")]
    Credito,
    /// `DEBITO`
    #[serde(rename = "DEBITO")]
    Debito,
}

/// Traz os tipos de Transação
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum EnumCreditCardTransactionType {
    /// `PAGAMENTO`
    #[serde(rename = "PAGAMENTO")]
    Pagamento,
    /// `TARIFA`
    #[serde(rename = "TARIFA")]
    Tarifa,
    /// `OPERACOES_CREDITO_CONTRATADAS_CARTAO`
    #[serde(rename = "OPERACOES_CREDITO_CONTRATADAS_CARTAO")]
    OperacoesCreditoContratadasCartao,
    /// `ESTORNO`
    #[serde(rename = "ESTORNO")]
    Estorno,
    /// `CASHBACK`
    #[serde(rename = "CASHBACK")]
    Cashback,
    /// `OUTROS`
    #[serde(rename = "OUTROS")]
    Outros,
}

/// Traz os tipos de pagamento.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum EnumCreditCardAccountsPaymentType {
    /// `A_VISTA`
    #[serde(rename = "A_VISTA")]
    AVista,
    /// `A_PRAZO`
    #[serde(rename = "A_PRAZO")]
    APrazo,
}

/// Traz os tipos de Tarifas: (Vide Enum) Anuidade, Saque com cartão no Brasil, Saque com cartão no exterior, Avaliação emergencial de crédito, Emissão segunda via, Tarifa pagamento de contas, SMS, OUTRA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum EnumCreditCardAccountFee {
    /// `ANUIDADE`
    #[serde(rename = "ANUIDADE")]
    Anuidade,
    /// `SAQUE_CARTAO_BRASIL`
    #[serde(rename = "SAQUE_CARTAO_BRASIL")]
    SaqueCartaoBrasil,
    /// `SAQUE_CARTAO_EXTERIOR`
    #[serde(rename = "SAQUE_CARTAO_EXTERIOR")]
    SaqueCartaoExterior,
    /// `AVALIACAO_EMERGENCIAL_CREDITO`
    #[serde(rename = "AVALIACAO_EMERGENCIAL_CREDITO")]
    AvaliacaoEmergencialCredito,
    /// `EMISSAO_SEGUNDA_VIA`
    #[serde(rename = "EMISSAO_SEGUNDA_VIA")]
    EmissaoSegundaVia,
    /// `TARIFA_PAGAMENTO_CONTAS`
    #[serde(rename = "TARIFA_PAGAMENTO_CONTAS")]
    TarifaPagamentoContas,
    /// `SMS`
    #[serde(rename = "SMS")]
    Sms,
    /// `OUTRA`
    #[serde(rename = "OUTRA")]
    Outra,
}

/// Traz outros tipos de crédito contratados no cartão.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum EnumCreditCardAccountsOtherCreditType {
    /// `CREDITO_ROTATIVO`
    #[serde(rename = "CREDITO_ROTATIVO")]
    CreditoRotativo,
    /// `PARCELAMENTO_FATURA`
    #[serde(rename = "PARCELAMENTO_FATURA")]
    ParcelamentoFatura,
    /// `EMPRESTIMO`
    #[serde(rename = "EMPRESTIMO")]
    Emprestimo,
    /// `OUTROS`
    #[serde(rename = "OUTROS")]
    Outros,
}

/// Valor da transação expresso em valor monetário com no mínimo 2 casas e no máximo 4 casas decimais, em moeda corrente do Brasil. Deve ser o valor de amount convertido para BRL (em caso de compra internacional) ou o mesmo valor de amount (em caso de compra nacional).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreditCardAccountsTransactionBrazilianAmount {
    /// Valor relacionado ao objeto.
    #[serde(rename = "amount")]
    pub amount: String,
    /// Moeda referente ao valor monetário, seguindo o modelo ISO-4217.
    #[serde(rename = "currency")]
    pub currency: String,
}

/// Valor original da transação. Expresso em valor monetário com no mínimo 2 casas decimais e no máximo 4 casas decimais. Deve ser sempre preenchido com o valor original da transação independente da nacionalidade, sem convertê-lo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreditCardAccountsTransactionAmount {
    /// Valor relacionado ao objeto.
    #[serde(rename = "amount")]
    pub amount: String,
    /// Moeda referente ao valor monetário, seguindo o modelo ISO-4217.
    #[serde(rename = "currency")]
    pub currency: String,
}

/// Lista que traz os valores relativos aos saldos do Limite de crédito total da conta de pagamento pós-paga
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreditCardAccountsBillsTransactions {
    /// Código ou identificador único prestado pela instituição que mantém a conta para representar a transação individual. É esperado que o `transactionId` seja único, imutável e estável.
    #[serde(rename = "transactionId")]
    pub transaction_id: String,
    /// Número de identificação do cartão: corresponde aos 4 últimos dígitos do cartão para PF, ou então, preencher com um identificador para PJ, com as caracteristicas definidas para os IDs no Open Finance.
    #[serde(rename = "identificationNumber")]
    pub identification_number: String,
    /// Literal usada na instituição financeira para identificar a transação. A informação apresentada precisa ser a mesma utilizada nos canais eletrônicos da instituição (extrato e fatura).
    #[serde(rename = "transactionName")]
    pub transaction_name: String,
    /// Informação que identifica a fatura onde consta a transação informada.
    #[serde(rename = "billId", default, skip_serializing_if = "Option::is_none")]
    pub bill_id: Option<String>,
    /// Indicador do tipo de lançamento: Débito (no extrato) Em um extrato bancário, os débitos, marcados com a letra “D” ao lado do valor registrado, informam as saídas de dinheiro na conta-corrente. Crédito (no extrato) Em um extrato bancário, os créditos, marcados com a letra “C” ao lado do valor…
    #[serde(rename = "creditDebitType")]
    pub credit_debit_type: EnumCreditDebitIndicator,
    /// Traz os tipos de Transação
    #[serde(rename = "transactionType")]
    pub transaction_type: EnumCreditCardTransactionType,
    /// Campo livre, de preenchimento obrigatório quando selecionado tipo de transação "OUTROS"
    #[serde(
        rename = "transactionalAdditionalInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub transactional_additional_info: Option<String>,
    /// Traz os tipos de pagamento.
    #[serde(
        rename = "paymentType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub payment_type: Option<EnumCreditCardAccountsPaymentType>,
    /// Traz os tipos de Tarifas: (Vide Enum) Anuidade, Saque com cartão no Brasil, Saque com cartão no exterior, Avaliação emergencial de crédito, Emissão segunda via, Tarifa pagamento de contas, SMS, OUTRA.
    #[serde(rename = "feeType", default, skip_serializing_if = "Option::is_none")]
    pub fee_type: Option<EnumCreditCardAccountFee>,
    /// Campo livre, de preenchimento obrigatório quando selecionada tipo de tarifa "OUTRA"
    #[serde(
        rename = "feeTypeAdditionalInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub fee_type_additional_info: Option<String>,
    /// Traz outros tipos de crédito contratados no cartão.
    #[serde(
        rename = "otherCreditsType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub other_credits_type: Option<EnumCreditCardAccountsOtherCreditType>,
    /// Campo livre para preenchimento de dados adicionais de outros tipos de crédito contratados no cartão.
    #[serde(
        rename = "otherCreditsAdditionalInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub other_credits_additional_info: Option<String>,
    /// Número da parcela que está sendo informada.
    #[serde(
        rename = "chargeIdentificator",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub charge_identificator: Option<serde_json::Number>,
    /// Quantidade de parcelas. \[Restrição\] O campo deve ser preenchido quando houverem parcelas relacionadas a transação.
    #[serde(
        rename = "chargeNumber",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub charge_number: Option<serde_json::Number>,
    /// Valor da transação expresso em valor monetário com no mínimo 2 casas e no máximo 4 casas decimais, em moeda corrente do Brasil. Deve ser o valor de amount convertido para BRL (em caso de compra internacional) ou o mesmo valor de amount (em caso de compra nacional).
    #[serde(rename = "brazilianAmount")]
    pub brazilian_amount: CreditCardAccountsTransactionBrazilianAmount,
    /// Valor original da transação. Expresso em valor monetário com no mínimo 2 casas decimais e no máximo 4 casas decimais. Deve ser sempre preenchido com o valor original da transação independente da nacionalidade, sem convertê-lo.
    #[serde(rename = "amount")]
    pub amount: CreditCardAccountsTransactionAmount,
    /// Data e hora da transação disponível para os clientes nos canais digitais da instituição. Neste momento, é obrigatório preencher com dados reais com precisão de data, hora e minuto, mesmo que a instituição não exiba para o cliente nesse nível de granularidade, em algumas situações. Dessa forma, os…
    #[serde(rename = "transactionDateTime")]
    pub transaction_date_time: String,
    /// Data em que a transação foi inserida na fatura
    #[serde(rename = "billPostDate")]
    pub bill_post_date: String,
    /// O MCC ou o código da categoria do estabelecimento comercial. Os MCCs são agrupados segundo suas similaridades. O MCC é usado para classificar o negócio pelo tipo fornecido de bens ou serviços. Os MCCs são atribuídos por tipo de comerciante (por exemplo, um para hotéis, um para lojas de materiais de…
    #[serde(rename = "payeeMCC", default, skip_serializing_if = "Option::is_none")]
    pub payee_mcc: Option<serde_json::Number>,
}

/// Indicador do tipo de limite
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum EnumCreditCardAccountsLineLimitType {
    /// `LIMITE_CREDITO_TOTAL`
    #[serde(rename = "LIMITE_CREDITO_TOTAL")]
    LimiteCreditoTotal,
    /// `LIMITE_CREDITO_MODALIDADE_OPERACAO`
    #[serde(rename = "LIMITE_CREDITO_MODALIDADE_OPERACAO")]
    LimiteCreditoModalidadeOperacao,
}

/// Indicador que permite informar se o valor do limite é consolidado ou individual.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum EnumCreditCardAccountsConsolidationType {
    /// `CONSOLIDADO`
    #[serde(rename = "CONSOLIDADO")]
    Consolidado,
    /// `INDIVIDUAL`
    #[serde(rename = "INDIVIDUAL")]
    Individual,
}

/// `CreditCardAccountsLimitsDataLineName`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum CreditCardAccountsLimitsDataLineName {
    /// `CREDITO_A_VISTA`
    #[serde(rename = "CREDITO_A_VISTA")]
    CreditoAVista,
    /// `CREDITO_PARCELADO`
    #[serde(rename = "CREDITO_PARCELADO")]
    CreditoParcelado,
    /// `SAQUE_CREDITO_BRASIL`
    #[serde(rename = "SAQUE_CREDITO_BRASIL")]
    SaqueCreditoBrasil,
    /// `SAQUE_CREDITO_EXTERIOR`
    #[serde(rename = "SAQUE_CREDITO_EXTERIOR")]
    SaqueCreditoExterior,
    /// `EMPRESTIMO_CARTAO_CONSIGNADO`
    #[serde(rename = "EMPRESTIMO_CARTAO_CONSIGNADO")]
    EmprestimoCartaoConsignado,
    /// `OUTROS`
    #[serde(rename = "OUTROS")]
    Outros,
}

/// Valor total do limite concedido.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreditCardsLimitAmount {
    /// Valor total do limite informado expresso em valor monetário com no mínimo 2 casas e no máximo 4 casas decimais.
    #[serde(rename = "amount")]
    pub amount: String,
    /// Moeda referente ao limite informado, segundo modelo ISO-4217. p.ex. 'BRL.' Todos os limite informados estão representados com a moeda vigente do Brasil.
    #[serde(rename = "currency")]
    pub currency: String,
    /// Razão pela qual o valor total do limite informado está igual a zero.
    #[serde(
        rename = "limitAmountReason",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub limit_amount_reason: Option<String>,
}

/// Valor utilizado do limite informado
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreditCardsUsedAmount {
    /// Valor utilizado do limite informado expresso em valor monetário com no mínimo 2 casas e no máximo 4 casas decimais.
    #[serde(rename = "amount")]
    pub amount: String,
    /// Moeda referente ao limite informado, segundo modelo ISO-4217. p.ex. 'BRL.' Todos os saldos informados estão representados com a moeda vigente do Brasil.
    #[serde(rename = "currency")]
    pub currency: String,
}

/// Valor disponível do limite informado
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreditCardsAvailableAmount {
    /// Valor disponível do limite informado expresso em valor monetário com no mínimo 2 casas e no máximo 4 casas decimais.
    #[serde(rename = "amount", default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
    /// Moeda referente ao limite informado, segundo modelo ISO-4217. p.ex. 'BRL.' Todos os saldos informados estão representados com a moeda vigente do Brasil.
    #[serde(rename = "currency", default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

/// Valor total do limite customizado pelo cliente nos canais eletrônicos da instituição. Esse objeto é de envio obrigatório nos casos em que a instituição permita ao cliente alterar o seu limite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreditCardAccountsLimitsDataCustomizedLimitAmount {
    /// Valor total do limite informado expresso em valor monetário com no mínimo 2 casas e no máximo 4 casas decimais.
    #[serde(rename = "amount")]
    pub amount: String,
    /// Moeda referente ao limite informado, segundo modelo ISO-4217. p.ex. 'BRL.' Todos os limite informados estão representados com a moeda vigente do Brasil.
    #[serde(rename = "currency")]
    pub currency: String,
}

/// Conjunto de informações referentes aos limites da conta de pagamento pós-paga.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreditCardAccountsLimitsData {
    /// Indicador do tipo de limite
    #[serde(rename = "creditLineLimitType")]
    pub credit_line_limit_type: EnumCreditCardAccountsLineLimitType,
    /// Indicador que permite informar se o valor do limite é consolidado ou individual.
    #[serde(rename = "consolidationType")]
    pub consolidation_type: EnumCreditCardAccountsConsolidationType,
    /// Número de identificação do cartão: corresponde aos 4 últimos dígitos do cartão para PF, ou então, preencher com um identificador para PJ, com as caracteristicas definidas para os IDs no Open Finance.
    #[serde(rename = "identificationNumber")]
    pub identification_number: String,
    /// `lineName`.
    #[serde(rename = "lineName", default, skip_serializing_if = "Option::is_none")]
    pub line_name: Option<CreditCardAccountsLimitsDataLineName>,
    /// Campo de preenchimento obrigatório se selecionada a opção 'OUTRAS' em lineName.
    #[serde(
        rename = "lineNameAdditionalInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub line_name_additional_info: Option<String>,
    /// True= Indica que a conta cartão possui limite total flexível ou “sem limite”. False = Indica que a conta cartão possui limite predeterminado exibido no canal para o cliente.
    #[serde(rename = "isLimitFlexible")]
    pub is_limit_flexible: bool,
    /// Valor total do limite concedido.
    #[serde(
        rename = "limitAmount",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub limit_amount: Option<CreditCardsLimitAmount>,
    /// Valor utilizado do limite informado
    #[serde(rename = "usedAmount")]
    pub used_amount: CreditCardsUsedAmount,
    /// Valor disponível do limite informado
    #[serde(
        rename = "availableAmount",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub available_amount: Option<CreditCardsAvailableAmount>,
    /// Valor total do limite customizado pelo cliente nos canais eletrônicos da instituição. Esse objeto é de envio obrigatório nos casos em que a instituição permita ao cliente alterar o seu limite.
    #[serde(
        rename = "customizedLimitAmount",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub customized_limit_amount: Option<CreditCardAccountsLimitsDataCustomizedLimitAmount>,
}

/// Lista que traz os valores relativos aos saldos do Limite de crédito total da conta de pagamento pós-paga
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreditCardAccountsTransaction {
    /// Código ou identificador único prestado pela instituição que mantém a conta para representar a transação individual. O ideal é que o `transactionId` seja imutável. No entanto, para casos em que a transação ainda está em processamento, é esperado que o `transactionId` intermediário seja estável,…
    #[serde(rename = "transactionId")]
    pub transaction_id: String,
    /// Número de identificação do cartão: corresponde aos 4 últimos dígitos do cartão para PF, ou então, preencher com um identificador para PJ, com as caracteristicas definidas para os IDs no Open Finance.
    #[serde(rename = "identificationNumber")]
    pub identification_number: String,
    /// Literal usada na instituição financeira para identificar a transação. A informação apresentada precisa ser a mesma utilizada nos canais eletrônicos da instituição (extrato e fatura).
    #[serde(rename = "transactionName")]
    pub transaction_name: String,
    /// Informação que identifica a fatura onde consta a transação informada. Preencher apenas para casos de transação em fatura fechada, ou seja, este campo não é esperado em casos de transação em fatura aberta.
    #[serde(rename = "billId", default, skip_serializing_if = "Option::is_none")]
    pub bill_id: Option<String>,
    /// Indicador do tipo de lançamento: Débito (no extrato) Em um extrato bancário, os débitos, marcados com a letra “D” ao lado do valor registrado, informam as saídas de dinheiro na conta-corrente. Crédito (no extrato) Em um extrato bancário, os créditos, marcados com a letra “C” ao lado do valor…
    #[serde(rename = "creditDebitType")]
    pub credit_debit_type: EnumCreditDebitIndicator,
    /// Traz os tipos de Transação
    #[serde(rename = "transactionType")]
    pub transaction_type: EnumCreditCardTransactionType,
    /// Campo livre, de preenchimento obrigatório quando selecionado tipo de transação "OUTROS"
    #[serde(
        rename = "transactionalAdditionalInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub transactional_additional_info: Option<String>,
    /// Traz os tipos de pagamento.
    #[serde(
        rename = "paymentType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub payment_type: Option<EnumCreditCardAccountsPaymentType>,
    /// Traz os tipos de Tarifas: (Vide Enum) Anuidade, Saque com cartão no Brasil, Saque com cartão no exterior, Avaliação emergencial de crédito, Emissão segunda via, Tarifa pagamento de contas, SMS, OUTRA.
    #[serde(rename = "feeType", default, skip_serializing_if = "Option::is_none")]
    pub fee_type: Option<EnumCreditCardAccountFee>,
    /// Campo livre, de preenchimento obrigatório quando selecionada tipo de tarifa "OUTRA"
    #[serde(
        rename = "feeTypeAdditionalInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub fee_type_additional_info: Option<String>,
    /// Traz outros tipos de crédito contratados no cartão.
    #[serde(
        rename = "otherCreditsType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub other_credits_type: Option<EnumCreditCardAccountsOtherCreditType>,
    /// Campo livre para preenchimento de dados adicionais de outros tipos de crédito contratados no cartão.
    #[serde(
        rename = "otherCreditsAdditionalInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub other_credits_additional_info: Option<String>,
    /// Número da parcela que está sendo informada.
    #[serde(
        rename = "chargeIdentificator",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub charge_identificator: Option<serde_json::Number>,
    /// Quantidade de parcelas. \[Restrição\] O campo deve ser preenchido quando houverem parcelas relacionadas a transação.
    #[serde(
        rename = "chargeNumber",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub charge_number: Option<serde_json::Number>,
    /// Valor da transação expresso em valor monetário com no mínimo 2 casas e no máximo 4 casas decimais, em moeda corrente do Brasil. Deve ser o valor de amount convertido para BRL (em caso de compra internacional) ou o mesmo valor de amount (em caso de compra nacional).
    #[serde(rename = "brazilianAmount")]
    pub brazilian_amount: CreditCardAccountsTransactionBrazilianAmount,
    /// Valor original da transação. Expresso em valor monetário com no mínimo 2 casas decimais e no máximo 4 casas decimais. Deve ser sempre preenchido com o valor original da transação independente da nacionalidade, sem convertê-lo.
    #[serde(rename = "amount")]
    pub amount: CreditCardAccountsTransactionAmount,
    /// Data e hora da transação disponível para os clientes nos canais digitais da instituição. Neste momento, é obrigatório preencher com dados reais com precisão de data, hora e minuto, mesmo que a instituição não exiba para o cliente nesse nível de granularidade, em algumas situações. Dessa forma, os…
    #[serde(rename = "transactionDateTime")]
    pub transaction_date_time: String,
    /// Data em que a transação foi inserida na fatura. Preencher o campo com a data dummy: 0001-01-01, apenas para os casos nos quais ainda não houver a data de inserção na fatura.
    #[serde(rename = "billPostDate")]
    pub bill_post_date: String,
    /// O MCC ou o código da categoria do estabelecimento comercial. Os MCCs são agrupados segundo suas similaridades. O MCC é usado para classificar o negócio pelo tipo fornecido de bens ou serviços. Os MCCs são atribuídos por tipo de comerciante (por exemplo, um para hotéis, um para lojas de materiais de…
    #[serde(rename = "payeeMCC", default, skip_serializing_if = "Option::is_none")]
    pub payee_mcc: Option<serde_json::Number>,
}
