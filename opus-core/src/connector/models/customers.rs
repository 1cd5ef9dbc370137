//! Customers API 2.2.1 models (`customers`), generated from the official OpenAPI
//! file by `tools/gen_connector_models.py`. Do not edit by hand.
//!
//! | endpoint | `data` |
//! |---|---|
//! | `GET /personal/identifications` | list of [`PersonalIdentificationData`] |
//! | `GET /personal/qualifications` | [`PersonalQualificationData`] |
//! | `GET /personal/financial-relations` | [`PersonalFinancialRelationData`] |
//! | `GET /business/identifications` | list of [`BusinessIdentificationData`] |
//! | `GET /business/qualifications` | [`BusinessQualificationData`] |
//! | `GET /business/financial-relations` | [`BusinessFinancialRelationData`] |

#![allow(clippy::doc_markdown)]

use serde::{Deserialize, Serialize};

/// Estado marital do cliente.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum EnumMaritalStatusCode {
    /// `SOLTEIRO`
    #[serde(rename = "SOLTEIRO")]
    Solteiro,
    /// `CASADO`
    #[serde(rename = "CASADO")]
    Casado,
    /// `VIUVO`
    #[serde(rename = "VIUVO")]
    Viuvo,
    /// `SEPARADO_JUDICIALMENTE`
    #[serde(rename = "SEPARADO_JUDICIALMENTE")]
    SeparadoJudicialmente,
    /// `DIVORCIADO`
    #[serde(rename = "DIVORCIADO")]
    Divorciado,
    /// `UNIAO_ESTAVEL`
    #[serde(rename = "UNIAO_ESTAVEL")]
    UniaoEstavel,
    /// `OUTRO`
    #[serde(rename = "OUTRO")]
    Outro,
}

/// "Conjunto de características anatomofisiológicas que distinguem o homem e a mulher: Sexo masculino; sexo feminino". No caso de não ser feminino nem masculino é classificado como 'OUTRO'
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum EnumSex {
    /// `FEMININO`
    #[serde(rename = "FEMININO")]
    Feminino,
    /// `MASCULINO`
    #[serde(rename = "MASCULINO")]
    Masculino,
    /// `OUTRO`
    #[serde(rename = "OUTRO")]
    Outro,
}

/// Documento concedido aos viajantes por uma autoridade administrativa nacional a fim de certificar sua identidade perante autoridades estrangeiras.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonalPassport {
    /// Número do Passaporte.
    #[serde(rename = "number")]
    pub number: String,
    /// Pais de emissão do passaporte. Código do pais de acordo com o código 'alpha3' do ISO-3166.
    #[serde(rename = "country")]
    pub country: String,
    /// Data vigência do Passaporte, conforme especificação RFC-3339.
    #[serde(
        rename = "expirationDate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub expiration_date: Option<String>,
    /// Data de emissão do passaporte, conforme especificação RFC-3339.
    #[serde(rename = "issueDate", default, skip_serializing_if = "Option::is_none")]
    pub issue_date: Option<String>,
}

/// Objeto agrupador de informações relativas a Documentos da pessoa natural
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonalDocument {
    /// Número completo do CPF. Atributo que corresponde às informações mínimas exigidas pela Regulamentação em vigor. O CPF é o Cadastro de Pessoa natural. Ele é um documento feito pela Receita Federal e serve para identificar os contribuintes. O CPF é uma numeração com 11 dígitos, que só mudam por…
    #[serde(rename = "cpfNumber", default, skip_serializing_if = "Option::is_none")]
    pub cpf_number: Option<String>,
    /// Documento concedido aos viajantes por uma autoridade administrativa nacional a fim de certificar sua identidade perante autoridades estrangeiras.
    #[serde(rename = "passport", default, skip_serializing_if = "Option::is_none")]
    pub passport: Option<PersonalPassport>,
}

/// Relação dos Códigos dos demais documentos pessoa natural.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum EnumPersonalOtherDocumentType {
    /// `CNH`
    #[serde(rename = "CNH")]
    Cnh,
    /// `RG`
    #[serde(rename = "RG")]
    Rg,
    /// `NIF`
    #[serde(rename = "NIF")]
    Nif,
    /// `RNE`
    #[serde(rename = "RNE")]
    Rne,
    /// `OUTROS`
    #[serde(rename = "OUTROS")]
    Outros,
}

/// `PersonalOtherDocument`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonalOtherDocument {
    /// Relação dos Códigos dos demais documentos pessoa natural.
    #[serde(rename = "type")]
    pub type_: EnumPersonalOtherDocumentType,
    /// Campo livre de preenchimento obrigatório se selecionada a opção OUTROS tipos de documentos
    #[serde(
        rename = "typeAdditionalInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub type_additional_info: Option<String>,
    /// Identificação/Número do documento informado
    #[serde(rename = "number")]
    pub number: String,
    /// Dígito verificador do documento informado. De preenchimento obrigatório se o documento informado tiver dígito verificador
    #[serde(
        rename = "checkDigit",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub check_digit: Option<String>,
    /// Para documentos em que se aplique o uso do local de emissão o mesmo deve ser enviado mandatoriamente, com a informação de órgão e UF. Exemplo: RG, local de emissão: SSP/RS. \[Restrição\] Obrigatório quando o Local de Emissão do Documento for relevante.
    #[serde(
        rename = "additionalInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub additional_info: Option<String>,
    /// Data de validade do documento informado, conforme especificação RFC-3339.
    #[serde(
        rename = "expirationDate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub expiration_date: Option<String>,
}

/// `NationalityOtherDocument`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NationalityOtherDocument {
    /// Tipo de documento. Campo livre, de preenchimento obrigatório quando a nacionalidade for diferente de brasileira. Informar tipo e número do documento, além da, vigência e demais informações complementares para se identificar o documento de pessoa estrangeira
    #[serde(rename = "type")]
    pub type_: String,
    /// Número de identificação do documento. Campo livre, de preenchimento obrigatório quando a nacionalidade for diferente de brasileira. Informar o número do documento e demais informações complementares para se identificar o documento de pessoa estrangeira
    #[serde(rename = "number")]
    pub number: String,
    /// Data de validade do documento informado, conforme especificação RFC-3339.
    #[serde(
        rename = "expirationDate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub expiration_date: Option<String>,
    /// Data de emissão do documento, conforme especificação RFC-3339.
    #[serde(rename = "issueDate", default, skip_serializing_if = "Option::is_none")]
    pub issue_date: Option<String>,
    /// Nome do país.
    #[serde(rename = "country", default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Campo livre de preenchimento quando necessário.
    #[serde(
        rename = "additionalInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub additional_info: Option<String>,
}

/// Objeto que agrupa informações relativas à nacionalidade da Pessoa Natural
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Nationality {
    /// Campo de preenchimento obrigatório caso o cliente não possua nacionalidade brasileira. Preencher indicando todas suas demais nacionalidades utilizando o código de pais de acordo com o código alpha3 do ISO-3166.p.ex.'CAN'
    #[serde(rename = "otherNationalitiesInfo")]
    pub other_nationalities_info: String,
    /// Lista que traz relação de documentos complementares de pessoas com nacionalidade diferente de brasileira
    #[serde(rename = "documents")]
    pub documents: Vec<NationalityOtherDocument>,
}

/// Tipo de filiação.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum EnumFiliationType {
    /// `MAE`
    #[serde(rename = "MAE")]
    Mae,
    /// `PAI`
    #[serde(rename = "PAI")]
    Pai,
}

/// `PersonalIdentificationDataFiliation`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonalIdentificationDataFiliation {
    /// Tipo de filiação.
    #[serde(rename = "type")]
    pub type_: EnumFiliationType,
    /// Nome civil completo da pessoa relativa à filiação. (Direito fundamental da pessoa, o nome civil é aquele atribuído à pessoa natural desde o registro de seu nascimento, com o qual será identificada por toda a sua vida, bem como após a sua morte).
    #[serde(rename = "civilName")]
    pub civil_name: String,
    /// Nome social da pessoa natural, se houver. (aquele pelo qual travestis e transexuais se reconhecem, bem como são identificados por sua comunidade e em seu meio social, conforme Decreto Local).
    #[serde(
        rename = "socialName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub social_name: Option<String>,
}

/// Enumeração referente a cada sigla da unidade da federação que identifica o estado ou o distrito federal, no qual o endereço está localizado. p.ex. 'AC'. São consideradas apenas as siglas para os estados brasileiros
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum EnumCountrySubDivision {
    /// `AC`
    #[serde(rename = "AC")]
    Ac,
    /// `AL`
    #[serde(rename = "AL")]
    Al,
    /// `AP`
    #[serde(rename = "AP")]
    Ap,
    /// `AM`
    #[serde(rename = "AM")]
    Am,
    /// `BA`
    #[serde(rename = "BA")]
    Ba,
    /// `CE`
    #[serde(rename = "CE")]
    Ce,
    /// `DF`
    #[serde(rename = "DF")]
    Df,
    /// `ES`
    #[serde(rename = "ES")]
    Es,
    /// `GO`
    #[serde(rename = "GO")]
    Go,
    /// `MA`
    #[serde(rename = "MA")]
    Ma,
    /// `MT`
    #[serde(rename = "MT")]
    Mt,
    /// `MS`
    #[serde(rename = "MS")]
    Ms,
    /// `MG`
    #[serde(rename = "MG")]
    Mg,
    /// `PA`
    #[serde(rename = "PA")]
    Pa,
    /// `PB`
    #[serde(rename = "PB")]
    Pb,
    /// `PR`
    #[serde(rename = "PR")]
    Pr,
    /// `PE`
    #[serde(rename = "PE")]
    Pe,
    /// `PI`
    #[serde(rename = "PI")]
    Pi,
    /// `RJ`
    #[serde(rename = "RJ")]
    Rj,
    /// `RN`
    #[serde(rename = "RN")]
    Rn,
    /// `RS`
    #[serde(rename = "RS")]
    Rs,
    /// `RO`
    #[serde(rename = "RO")]
    Ro,
    /// `RR`
    #[serde(rename = "RR")]
    Rr,
    /// `SC`
    #[serde(rename = "SC")]
    Sc,
    /// `SP`
    #[serde(rename = "SP")]
    Sp,
    /// `SE`
    #[serde(rename = "SE")]
    Se,
    /// `TO`
    #[serde(rename = "TO")]
    To,
}

/// Conjunto de informações, que correspondem aos valores das coordenadas geográficas em graus decimais, no Sistema de referência WGS84
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GeographicCoordinates {
    /// Informação da Latitude referente a geolocalização informada. Entre -90 e 90.p.ex. '-23.5475000'. (2 casas antes da vírgula, 11 posições)
    #[serde(rename = "latitude")]
    pub latitude: String,
    /// Informação da Longitude referente a geolocalização informada. Entre -180 e 180. p.ex '-46.6361100'. (3 casas antes da vírgula, 11 posições)
    #[serde(rename = "longitude")]
    pub longitude: String,
}

/// `PersonalPostalAddress`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonalPostalAddress {
    /// Indica se o endereço informado é o principal.
    #[serde(rename = "isMain")]
    pub is_main: bool,
    /// Corresponde ao endereço residencial do cliente.
    #[serde(rename = "address")]
    pub address: String,
    /// Alguns logradouros ainda necessitam ser especificados por meio de complemento.
    #[serde(
        rename = "additionalInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub additional_info: Option<String>,
    /// Bairro é uma comunidade ou região localizada em uma cidade ou município de acordo com as suas subdivisões geográficas. \[Restrição\] De preenchimento obrigatório, se houver.
    #[serde(
        rename = "districtName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub district_name: Option<String>,
    /// Localidade: O nome da localidade corresponde à designação da cidade ou município no qual o endereço está localizado.
    #[serde(rename = "townName")]
    pub town_name: String,
    /// Código IBGE de Município. A Tabela de Códigos de Municípios do IBGE apresenta a lista dos municípios brasileiros associados a um código composto de 7 dígitos, sendo os dois primeiros referentes ao código da Unidade da Federação.
    #[serde(
        rename = "ibgeTownCode",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ibge_town_code: Option<String>,
    /// Enumeração referente a cada sigla da unidade da federação que identifica o estado ou o distrito federal, no qual o endereço está localizado. p.ex. 'AC'. São consideradas apenas as siglas para os estados brasileiros
    #[serde(
        rename = "countrySubDivision",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub country_sub_division: Option<EnumCountrySubDivision>,
    /// Código de Endereçamento Postal: Composto por um conjunto numérico de oito dígitos, o objetivo principal do CEP é orientar e acelerar o encaminhamento, o tratamento e a entrega de objetos postados nos Correios, por meio da sua atribuição a localidades, logradouros, unidades dos Correios, serviços,…
    #[serde(rename = "postCode")]
    pub post_code: String,
    /// Nome do país
    #[serde(rename = "country")]
    pub country: String,
    /// Código do país de acordo com o código alpha3 do ISO-3166.
    #[serde(
        rename = "countryCode",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub country_code: Option<String>,
    /// Conjunto de informações, que correspondem aos valores das coordenadas geográficas em graus decimais, no Sistema de referência WGS84
    #[serde(
        rename = "geographicCoordinates",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub geographic_coordinates: Option<GeographicCoordinates>,
}

/// Identificação do Tipo de telefone do cliente.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum EnumCustomerPhoneType {
    /// `FIXO`
    #[serde(rename = "FIXO")]
    Fixo,
    /// `MOVEL`
    #[serde(rename = "MOVEL")]
    Movel,
    /// `OUTRO`
    #[serde(rename = "OUTRO")]
    Outro,
}

/// Número de DDD (Discagem Direta à Distância) do telefone do cliente - se houver
pub type AreaCode = String;

/// `CustomerPhone`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerPhone {
    /// Indica se o telefone informado é o principal
    #[serde(rename = "isMain")]
    pub is_main: bool,
    /// Identificação do Tipo de telefone do cliente.
    #[serde(rename = "type")]
    pub type_: EnumCustomerPhoneType,
    /// Informação complementar relativa ao tipo de telefone selecionado. \[Restrição\] De preenchimento obrigatório quando selecionado o tipo 'OUTRO'.
    #[serde(
        rename = "additionalInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub additional_info: Option<String>,
    /// Número de DDI (Discagem Direta Internacional) para telefone de acesso ao Cliente - se houver
    #[serde(
        rename = "countryCallingCode",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub country_calling_code: Option<String>,
    /// Número de DDD (Discagem Direta à Distância) do telefone do cliente - se houver
    #[serde(rename = "areaCode")]
    pub area_code: AreaCode,
    /// Número de telefone do cliente
    #[serde(rename = "number")]
    pub number: String,
    /// Número do ramal. De preenchimento obrigatório se fizer parte da identificação do número do telefone informado
    #[serde(
        rename = "phoneExtension",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub phone_extension: Option<String>,
}

/// `CustomerEmail`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerEmail {
    /// Indica se o email informado é o principal
    #[serde(rename = "isMain")]
    pub is_main: bool,
    /// Endereço de email
    #[serde(rename = "email")]
    pub email: String,
}

/// Conjunto de informações referentes às formas para contatar o cliente.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonalContacts {
    /// Lista de endereços da pessoa natural
    #[serde(rename = "postalAddresses")]
    pub postal_addresses: Vec<PersonalPostalAddress>,
    /// Lista com telefones de contato da pessoa natural
    #[serde(rename = "phones")]
    pub phones: Vec<CustomerPhone>,
    /// Lista e-mails de contato
    #[serde(rename = "emails")]
    pub emails: Vec<CustomerEmail>,
}

/// Conjunto de informações relativas a Identificação ou seja a ação e o efeito de identificar de forma única a pessoa natural através de seus dados cadastrais.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonalIdentificationData {
    /// Data e hora da atualização dos campos \&lt;_endpoint_\&gt;, conforme especificação RFC-3339, formato UTC. Quando não existente uma data vinculada especificamente ao bloco, assumir a data e hora de atualização do cadastro como um todo.
    #[serde(rename = "updateDateTime")]
    pub update_date_time: String,
    /// Um identificador único e imutável usado para identificar o recurso cliente pessoa natural. Este identificador não tem significado para o cliente que deu o consentimento
    #[serde(rename = "personalId")]
    pub personal_id: String,
    /// Nome da Marca reportada pelo participante no Open Finance. Recomenda-se utilizar, sempre que possível, o mesmo nome de marca atribuído no campo do diretório Customer Friendly Server Name (Authorisation Server).
    #[serde(rename = "brandName")]
    pub brand_name: String,
    /// Nome civil completo da pessoa natural (Direito fundamental da pessoa, o nome civil é aquele atribuído à pessoa natural desde o registro de seu nascimento, com o qual será identificada por toda a sua vida, bem como após a sua morte)
    #[serde(rename = "civilName")]
    pub civil_name: String,
    /// Nome social da pessoa natural, se houver. (aquele pelo qual travestis e transexuais se reconhecem, bem como são identificados por sua comunidade e em seu meio social, conforme Decreto Local)
    #[serde(
        rename = "socialName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub social_name: Option<String>,
    /// Data de nascimento, conforme especificação RFC-3339
    #[serde(rename = "birthDate")]
    pub birth_date: String,
    /// Estado marital do cliente.
    #[serde(
        rename = "maritalStatusCode",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub marital_status_code: Option<EnumMaritalStatusCode>,
    /// Campo livre para complementar a informação relativa ao estado marital.
    #[serde(
        rename = "maritalStatusAdditionalInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub marital_status_additional_info: Option<String>,
    /// "Conjunto de características anatomofisiológicas que distinguem o homem e a mulher: Sexo masculino; sexo feminino". No caso de não ser feminino nem masculino é classificado como 'OUTRO'
    #[serde(rename = "sex", default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<EnumSex>,
    /// Número completo do CNPJ da instituição responsável pelo Cadastro - o CNPJ corresponde ao número de inscrição no Cadastro de Pessoa Jurídica. Deve-se ter apenas os números do CNPJ, sem máscara
    #[serde(rename = "companiesCnpj")]
    pub companies_cnpj: Vec<String>,
    /// Objeto agrupador de informações relativas a Documentos da pessoa natural
    #[serde(rename = "documents")]
    pub documents: PersonalDocument,
    /// Relação dos demais documentos
    #[serde(
        rename = "otherDocuments",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub other_documents: Option<Vec<PersonalOtherDocument>>,
    /// Informa se o Cliente tem nacionalidade brasileira.
    #[serde(rename = "hasBrazilianNationality")]
    pub has_brazilian_nationality: bool,
    /// `nationality`.
    #[serde(
        rename = "nationality",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nationality: Option<Vec<Nationality>>,
    /// `filiation`.
    #[serde(rename = "filiation", default, skip_serializing_if = "Option::is_none")]
    pub filiation: Option<Vec<PersonalIdentificationDataFiliation>>,
    /// Conjunto de informações referentes às formas para contatar o cliente.
    #[serde(rename = "contacts")]
    pub contacts: PersonalContacts,
}

/// Traz a relação dos códigos relativos à ocupação.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum EnumOccupationMainCodeType {
    /// `RECEITA_FEDERAL`
    #[serde(rename = "RECEITA_FEDERAL")]
    ReceitaFederal,
    /// `CBO`
    #[serde(rename = "CBO")]
    Cbo,
    /// `OUTRO`
    #[serde(rename = "OUTRO")]
    Outro,
}

/// Traz a frequência ou período da renda informada.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum EnumInformedIncomeFrequency {
    /// `DIARIA`
    #[serde(rename = "DIARIA")]
    Diaria,
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

/// Valor total da renda informada
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InformedIncomeAmount {
    /// Valor total da renda informada. Expresso em valor monetário com no mínimo 2 casas e no máximo 4 casas decimais. Renda primária indica os montantes a pagar ou a receber em troca do uso temporário de recursos financeiros, trabalho ou ativos não financeiros não produzidos, a saber, remuneração de…
    #[serde(rename = "amount")]
    pub amount: String,
    /// Moeda referente ao valor monetário, seguindo o modelo ISO-4217.
    #[serde(rename = "currency")]
    pub currency: String,
}

/// `InformedIncome`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InformedIncome {
    /// Traz a frequência ou período da renda informada.
    #[serde(rename = "frequency")]
    pub frequency: EnumInformedIncomeFrequency,
    /// Valor total da renda informada
    #[serde(rename = "amount")]
    pub amount: InformedIncomeAmount,
    /// Data da renda, conforme especificação RFC-3339.
    #[serde(rename = "date")]
    pub date: String,
}

/// Valor do patrimônio informado
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InformedPatrimonyAmount {
    /// Valor do patrimônio informado. Expresso em valor monetário com no mínimo 2 casas e no máximo 4 casas decimais. Patrimônio é o conjunto de bens vinculado a uma pessoa ou a uma entidade.
    #[serde(rename = "amount")]
    pub amount: String,
    /// Moeda referente ao valor monetário, seguindo o modelo ISO-4217.
    #[serde(rename = "currency")]
    pub currency: String,
}

/// `PersonalInformedPatrimony`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonalInformedPatrimony {
    /// Valor do patrimônio informado
    #[serde(rename = "amount")]
    pub amount: InformedPatrimonyAmount,
    /// Ano de referência da Renda, conforme especificação RFC-3339.
    #[serde(rename = "year")]
    pub year: serde_json::Number,
}

/// Conjunto de informações relativas ao processo de qualificação. Considera-se qualificação as informações que permitam as instituições apreciar, avaliar, caracterizar e classificar o cliente com a finalidade de conhecer o seu perfil de risco e sua capacidade econômico-financeira
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonalQualificationData {
    /// Data e hora da atualização dos campos \&lt;_endpoint_\&gt;, conforme especificação RFC-3339, formato UTC. Quando não existente uma data vinculada especificamente ao bloco, assumir a data e hora de atualização do cadastro como um todo.
    #[serde(rename = "updateDateTime")]
    pub update_date_time: String,
    /// Número completo do CNPJ da instituição responsável pelo Cadastro - o CNPJ corresponde ao número de inscrição no Cadastro de Pessoa Jurídica. Deve-se ter apenas os números do CNPJ, sem máscara
    #[serde(rename = "companyCnpj")]
    pub company_cnpj: String,
    /// Traz a relação dos códigos relativos à ocupação.
    #[serde(
        rename = "occupationCode",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub occupation_code: Option<EnumOccupationMainCodeType>,
    /// Campo livre, de preenchimento obrigatório. Se selecionada a opção *occupationCode* "RECEITA_FEDERAL" ou "CBO", informar o código desta lista padronizada. Se selecionada *occupationCode* "OUTRO", informar o descritivo da ocupação quando a IF não segue a lista padronizada da Receita Federal e nem da…
    #[serde(
        rename = "occupationDescription",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub occupation_description: Option<String>,
    /// `informedIncome`.
    #[serde(
        rename = "informedIncome",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub informed_income: Option<InformedIncome>,
    /// `informedPatrimony`.
    #[serde(
        rename = "informedPatrimony",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub informed_patrimony: Option<PersonalInformedPatrimony>,
}

/// Lista com a relação dos produtos e serviços com contrato vigente.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum EnumProductServiceType {
    /// `CONTA_DEPOSITO_A_VISTA`
    #[serde(rename = "CONTA_DEPOSITO_A_VISTA")]
    ContaDepositoAVista,
    /// `CONTA_POUPANCA`
    #[serde(rename = "CONTA_POUPANCA")]
    ContaPoupanca,
    /// `CONTA_PAGAMENTO_PRE_PAGA`
    #[serde(rename = "CONTA_PAGAMENTO_PRE_PAGA")]
    ContaPagamentoPrePaga,
    /// `CARTAO_CREDITO`
    #[serde(rename = "CARTAO_CREDITO")]
    CartaoCredito,
    /// `OPERACAO_CREDITO`
    #[serde(rename = "OPERACAO_CREDITO")]
    OperacaoCredito,
    /// `SEGURO`
    #[serde(rename = "SEGURO")]
    Seguro,
    /// `PREVIDENCIA`
    #[serde(rename = "PREVIDENCIA")]
    Previdencia,
    /// `INVESTIMENTO`
    #[serde(rename = "INVESTIMENTO")]
    Investimento,
    /// `OPERACOES_CAMBIO`
    #[serde(rename = "OPERACOES_CAMBIO")]
    OperacoesCambio,
    /// `CONTA_SALARIO`
    #[serde(rename = "CONTA_SALARIO")]
    ContaSalario,
    /// `CREDENCIAMENTO`
    #[serde(rename = "CREDENCIAMENTO")]
    Credenciamento,
    /// `OUTROS`
    #[serde(rename = "OUTROS")]
    Outros,
}

/// Tipo de representante. Representante legal - Nome Civil completo da Pessoa Natural que represente uma entidade ou uma empresa e é nomeado em seu ato constitutivo, ou seja, no contrato social ou estatuto social. Procurador - é qualquer pessoa que represente a Pessoa Natural em algum negócio,…
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum EnumProcuratorsTypePersonal {
    /// `REPRESENTANTE_LEGAL`
    #[serde(rename = "REPRESENTANTE_LEGAL")]
    RepresentanteLegal,
    /// `PROCURADOR`
    #[serde(rename = "PROCURADOR")]
    Procurador,
}

/// `PersonalProcurator`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonalProcurator {
    /// Tipo de representante. Representante legal - Nome Civil completo da Pessoa Natural que represente uma entidade ou uma empresa e é nomeado em seu ato constitutivo, ou seja, no contrato social ou estatuto social. Procurador - é qualquer pessoa que represente a Pessoa Natural em algum negócio,…
    #[serde(rename = "type")]
    pub type_: EnumProcuratorsTypePersonal,
    /// Número completo do CPF. O CPF é o Cadastro de Pessoa natural. Ele é um documento feito pela Receita Federal e serve para identificar os contribuintes. O CPF é uma numeração com 11 dígitos, que só mudam por decisão judicial. O documento é emitido pela receita federal
    #[serde(rename = "cpfNumber")]
    pub cpf_number: String,
    /// Nome civil completo da pessoa natural. (Direito fundamental da pessoa, o nome civil é aquele atribuído à pessoa natural desde o registro de seu nascimento, com o qual será identificada por toda a sua vida, bem como após a sua morte)
    #[serde(rename = "civilName")]
    pub civil_name: String,
    /// Nome social da pessoa natural, se houver. (aquele pelo qual travestis e transexuais se reconhecem, bem como são identificados por sua comunidade e em seu meio social, conforme Decreto Nº 51.180, de 14 de janeiro de 2010)
    #[serde(
        rename = "socialName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub social_name: Option<String>,
}

/// Tipos de contas. Modalidades tradicionais previstas pela Resolução 4.753, não contemplando contas vinculadas, conta de domiciliados no exterior, contas em moedas estrangeiras e conta correspondente moeda eletrônica. Vide Enum:
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum EnumAccountTypeCustomers {
    /// `CONTA_DEPOSITO_A_VISTA`
    #[serde(rename = "CONTA_DEPOSITO_A_VISTA")]
    ContaDepositoAVista,
    /// `CONTA_POUPANCA`
    #[serde(rename = "CONTA_POUPANCA")]
    ContaPoupanca,
    /// `CONTA_PAGAMENTO_PRE_PAGA`
    #[serde(rename = "CONTA_PAGAMENTO_PRE_PAGA")]
    ContaPagamentoPrePaga,
}

/// Subtipo de conta (vide Enum): Conta individual - possui um único titular Conta conjunta simples - onde as movimentações financeiras só podem serem realizadas mediante autorização de TODOS os correntistas da conta. Conta conjunta solidária - é a modalidade cujos titulares podem realizar…
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum PersonalAccountSubtype {
    /// `INDIVIDUAL`
    #[serde(rename = "INDIVIDUAL")]
    Individual,
    /// `CONJUNTA_SIMPLES`
    #[serde(rename = "CONJUNTA_SIMPLES")]
    ConjuntaSimples,
    /// `CONJUNTA_SOLIDARIA`
    #[serde(rename = "CONJUNTA_SOLIDARIA")]
    ConjuntaSolidaria,
}

/// Lista de contas depósito à vista, poupança e pagamento pré-pagas mantidas pelo cliente na instituição transmissora e para as quais ele tenha fornecido consentimento
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonalAccount {
    /// Código identificador atribuído pelo Banco Central do Brasil às instituições participantes do STR (Sistema de Transferência de reservas).O Compe (Sistema de Compensação de Cheques e Outros Papéis) é um sistema que identifica e processa as compensações bancárias. Ele é representado por um código de…
    #[serde(rename = "compeCode")]
    pub compe_code: String,
    /// Código da Agência detentora da conta. (Agência é a dependência destinada ao atendimento aos clientes, ao público em geral e aos associados de cooperativas de crédito, no exercício de atividades da instituição, não podendo ser móvel ou transitória) \[Restrição\] Obrigatoriamente deve ser preenchido…
    #[serde(
        rename = "branchCode",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub branch_code: Option<String>,
    /// Número da conta
    #[serde(rename = "number")]
    pub number: String,
    /// Dígito da conta
    #[serde(rename = "checkDigit")]
    pub check_digit: String,
    /// Tipos de contas. Modalidades tradicionais previstas pela Resolução 4.753, não contemplando contas vinculadas, conta de domiciliados no exterior, contas em moedas estrangeiras e conta correspondente moeda eletrônica. Vide Enum:
    #[serde(rename = "type")]
    pub type_: EnumAccountTypeCustomers,
    /// Subtipo de conta (vide Enum): Conta individual - possui um único titular Conta conjunta simples - onde as movimentações financeiras só podem serem realizadas mediante autorização de TODOS os correntistas da conta. Conta conjunta solidária - é a modalidade cujos titulares podem realizar…
    #[serde(rename = "subtype")]
    pub subtype: PersonalAccountSubtype,
}

/// `PortabilitiesReceived`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortabilitiesReceived {
    /// Nome do empregador conforme recebido pela comunicação de portabilidade. O empregador pode ser pessoa natural ou pessoa jurídica, quando se tratar de pessoa jurídica, deve haver o envio da razão social.
    #[serde(rename = "employerName")]
    pub employer_name: String,
    /// Número de inscrição (CPF/CNPJ) do empregador (contratante dos serviços de pagamento), conforme recebido pela comunicação de portabilidade.
    #[serde(rename = "employerCnpjCpf")]
    pub employer_cnpj_cpf: String,
    /// Número de inscrição no Cadastro Nacional da Pessoa Jurídica (CNPJ) do banco folha (instituição financeira detentora da conta salário) conforme recebido pela comunicação de portabilidade.
    #[serde(rename = "paycheckBankDetainerCnpj")]
    pub paycheck_bank_detainer_cnpj: String,
    /// Número do ISPB do Banco Folha (instituição financeira detentora da conta salário) conforme recebido pela comunicação de portabilidade.
    #[serde(rename = "paycheckBankDetainerIspb")]
    pub paycheck_bank_detainer_ispb: String,
    /// Data de aprovação da portabilidade, conforme recebido pela comunicação de portabilidade.
    #[serde(rename = "portabilityApprovalDate")]
    pub portability_approval_date: String,
}

/// `PaychecksBankLink`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaychecksBankLink {
    /// Nome do empregador conforme registrado na abertura da conta salário. O empregador pode ser pessoa natural ou pessoa jurídica, quando se tratar de pessoa jurídica, deve haver o envio da razão social.
    #[serde(rename = "employerName")]
    pub employer_name: String,
    /// Documento do empregador (CNPJ/CPF), conforme registrado na abertura da conta salário.
    #[serde(rename = "employerCnpjCpf")]
    pub employer_cnpj_cpf: String,
    /// CNPJ da instituição financeira contratada para prestar serviço de pagamento de salário (banco-folha).
    #[serde(rename = "paycheckBankCnpj")]
    pub paycheck_bank_cnpj: String,
    /// Número ISPB (Identificador do Sistema de Pagamentos Brasileiros) do instituição financeira contratada para prestar serviço de pagamento de salário (banco-folha).
    #[serde(rename = "paycheckBankIspb")]
    pub paycheck_bank_ispb: String,
    /// Data de abertura da conta salário.
    #[serde(rename = "accountOpeningDate")]
    pub account_opening_date: String,
}

/// Objeto que reúne as informações relativas ao relacionamento do cliente junto à Instituição. Considera-se relacionamento as informações que permitam conhecer desde quando a pessoa consultada é cliente da instituição, bem como um indicador dos produtos e serviços que ela consome atualmente e seus…
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonalFinancialRelationData {
    /// Data e hora da atualização dos campos \&lt;_endpoint_\&gt;, conforme especificação RFC-3339, formato UTC. Quando não existente uma data vinculada especificamente ao bloco, assumir a data e hora de atualização do cadastro como um todo.
    #[serde(rename = "updateDateTime")]
    pub update_date_time: String,
    /// Data de início de relacionamento com a Instituição Financeira. Deve trazer o menor valor entre a informação reportada ao BACEN pelo DOC 3040 e CCS.
    #[serde(rename = "startDate")]
    pub start_date: String,
    /// `productsServicesType`.
    #[serde(rename = "productsServicesType")]
    pub products_services_type: Vec<EnumProductServiceType>,
    /// Informações adicionais do tipo de serviço. \[Restrição\] Campo obrigatório quando productsServicesType for 'OUTROS'.
    #[serde(
        rename = "productsServicesTypeAdditionalInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub products_services_type_additional_info: Option<String>,
    /// Lista dos representantes. \[Restrição\] De preenchimento obrigatório se houver representante.
    #[serde(rename = "procurators")]
    pub procurators: Vec<PersonalProcurator>,
    /// Lista de contas depósito à vista, poupança e pagamento pré-pagas mantidas pelo cliente na instituição transmissora.
    #[serde(rename = "accounts")]
    pub accounts: Vec<PersonalAccount>,
    /// Lista de informações de empregador recebidos através de portabilidade de salário solicitada pelo cliente da transmissora à instituição detentora(s) de sua conta salário, ativos ou que já estiveram ativos,. Cada vínculo é associado a uma portabilidade de salário recebida pela transmissora.
    #[serde(
        rename = "portabilitiesReceived",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub portabilities_received: Option<Vec<PortabilitiesReceived>>,
    /// Lista de informações de contas salário relacionadas com vínculos empregatícios, existentes ou que já existiram, firmados entre o cliente pessoa natural e um ou mais empregadores. Cada vínculo é associado a uma conta salário aberta mantida no banco-folha (instituição transmissora).
    #[serde(
        rename = "paychecksBankLink",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub paychecks_bank_link: Option<Vec<PaychecksBankLink>>,
}

/// `BusinessOtherDocument`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BusinessOtherDocument {
    /// Número do Tipo de documento informado. De preenchimento obrigatório, para a Pessoa jurídica com domicílio ou sede no exterior, desobrigada de inscrição no CNPJ
    #[serde(rename = "type")]
    pub type_: String,
    /// Número do outro documento. De preenchimento obrigatório, para a Pessoa jurídica com domicílio ou sede no exterior, desobrigada de inscrição no CNPJ
    #[serde(rename = "number")]
    pub number: String,
    /// Pais de emissão do tipo de documento informado. Código do pais de acordo com o código alpha3 do ISO-3166
    #[serde(rename = "country")]
    pub country: String,
    /// Data vigência do tipo de documento informado, conforme especificação RFC-3339.
    #[serde(
        rename = "expirationDate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub expiration_date: Option<String>,
}

/// Indica se a pessoa da parte envolvida é uma pessoa natural ou juridica
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum PartiesParticipationPersonType {
    /// `PESSOA_NATURAL`
    #[serde(rename = "PESSOA_NATURAL")]
    PessoaNatural,
    /// `PESSOA_JURIDICA`
    #[serde(rename = "PESSOA_JURIDICA")]
    PessoaJuridica,
}

/// Indica o perfil de atuação na empresa. Vide Enum O administrador é o responsável por desempenhar todas as funções administrativas da empresa. É ele quem conduz o dia a dia do negócio, assinando documentos, respondendo legalmente pela sociedade, realizando empréstimos e outras ações gerenciais.…
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum PartiesParticipationType {
    /// `SOCIO`
    #[serde(rename = "SOCIO")]
    Socio,
    /// `ADMINISTRADOR`
    #[serde(rename = "ADMINISTRADOR")]
    Administrador,
}

/// Tipo do documento informado.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum EnumPartiesParticipationDocumentType {
    /// `CPF`
    #[serde(rename = "CPF")]
    Cpf,
    /// `PASSAPORTE`
    #[serde(rename = "PASSAPORTE")]
    Passaporte,
    /// `OUTRO_DOCUMENTO_VIAGEM`
    #[serde(rename = "OUTRO_DOCUMENTO_VIAGEM")]
    OutroDocumentoViagem,
    /// `CNPJ`
    #[serde(rename = "CNPJ")]
    Cnpj,
}

/// Lista relativa às informações das partes envolvidas, como: sócio e /ou administrador
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartiesParticipation {
    /// Indica se a pessoa da parte envolvida é uma pessoa natural ou juridica
    #[serde(rename = "personType")]
    pub person_type: PartiesParticipationPersonType,
    /// Indica o perfil de atuação na empresa. Vide Enum O administrador é o responsável por desempenhar todas as funções administrativas da empresa. É ele quem conduz o dia a dia do negócio, assinando documentos, respondendo legalmente pela sociedade, realizando empréstimos e outras ações gerenciais.…
    #[serde(rename = "type")]
    pub type_: PartiesParticipationType,
    /// Nome civil completo da pessoa natural (Direito fundamental da pessoa, o nome civil é aquele atribuído à pessoa natural desde o registro de seu nascimento, com o qual será identificada por toda a sua vida, bem como após a sua morte)
    #[serde(rename = "civilName", default, skip_serializing_if = "Option::is_none")]
    pub civil_name: Option<String>,
    /// Nome social da pessoa natural, se houver. (aquele pelo qual travestis e transexuais se reconhecem, bem como são identificados por sua comunidade e em seu meio social, conforme Decreto Local).
    #[serde(
        rename = "socialName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub social_name: Option<String>,
    /// Razão social da empresa consultada é o termo registrado sob o qual uma pessoa jurídica (PJ) se individualiza e exerce suas atividades. Também pode ser chamada por denominação social ou firma empresarial
    #[serde(
        rename = "companyName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub company_name: Option<String>,
    /// Nome fantasia da pessoa jurídica, se houver. (É o nome popular da empresa, utilizado para divulgação da empresa e melhor fixação com o público). De preenchimento obrigatório se houver
    #[serde(rename = "tradeName", default, skip_serializing_if = "Option::is_none")]
    pub trade_name: Option<String>,
    /// Data de início da participação, conforme especificação RFC-3339.
    #[serde(rename = "startDate", default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
    /// Percentual de participação societária (informar com 6 casas decimais). O Sócio só deve ser informado se sua participação societária for igual ou superior a 25%. p.ex: 0.250000 (Este valor representa 25%. O valor '1 'representa 100%).
    #[serde(
        rename = "shareholding",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub shareholding: Option<String>,
    /// Tipo do documento informado.
    #[serde(rename = "documentType")]
    pub document_type: EnumPartiesParticipationDocumentType,
    /// Número do documento informado. Campo Texto Livre para preencher número e dígito do documento se houver
    #[serde(rename = "documentNumber")]
    pub document_number: String,
    /// Campo livre, de preenchimento obrigatório quando o documento informado tiver informações complementares relevantes para a sua identificação
    #[serde(
        rename = "documentAdditionalInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub document_additional_info: Option<String>,
    /// País de emissão do documento. Código do pais de acordo com o código alpha3 do ISO-3166.
    #[serde(
        rename = "documentCountry",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub document_country: Option<String>,
    /// Data de validade do documento informado, conforme especificação RFC-3339.
    #[serde(
        rename = "documentExpirationDate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub document_expiration_date: Option<String>,
    /// Data de emissão do documento, conforme especificação RFC-3339.
    #[serde(
        rename = "documentIssueDate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub document_issue_date: Option<String>,
}

/// `BusinessPostalAddress`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BusinessPostalAddress {
    /// Indica se o endereço informado é o principal
    #[serde(rename = "isMain")]
    pub is_main: bool,
    /// Corresponde ao endereço comercial do cliente.
    #[serde(rename = "address", default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Alguns logradouros ainda necessitam ser especificados por meio de complemento
    #[serde(
        rename = "additionalInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub additional_info: Option<String>,
    /// Bairro é uma comunidade ou região localizada em uma cidade ou município de acordo com as suas subdivisões geográficas. Preenchimento obrigatório, se houver.
    #[serde(
        rename = "districtName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub district_name: Option<String>,
    /// Localidade: O nome da localidade corresponde à designação da cidade ou município no qual o endereço está localizado.
    #[serde(rename = "townName")]
    pub town_name: String,
    /// Código IBGE de Município. A Tabela de Códigos de Municípios do IBGE apresenta a lista dos municípios brasileiros associados a um código composto de 7 dígitos, sendo os dois primeiros referentes ao código da Unidade da Federação.
    #[serde(
        rename = "ibgeTownCode",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ibge_town_code: Option<String>,
    /// Enumeração referente a cada sigla da unidade da federação que identifica o estado ou o distrito federal, no qual o endereço está localizado. p.ex. 'AC'. São consideradas apenas as siglas para os estados brasileiros
    #[serde(
        rename = "countrySubDivision",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub country_sub_division: Option<EnumCountrySubDivision>,
    /// Código de Endereçamento Postal: Composto por um conjunto numérico de oito dígitos, o objetivo principal do CEP é orientar e acelerar o encaminhamento, o tratamento e a entrega de objetos postados nos Correios, por meio da sua atribuição a localidades, logradouros, unidades dos Correios, serviços,…
    #[serde(rename = "postCode", default, skip_serializing_if = "Option::is_none")]
    pub post_code: Option<String>,
    /// Nome do país
    #[serde(rename = "country")]
    pub country: String,
    /// Código do pais de acordo com o código alpha3 do ISO-3166
    #[serde(rename = "countryCode")]
    pub country_code: String,
    /// Conjunto de informações, que correspondem aos valores das coordenadas geográficas em graus decimais, no Sistema de referência WGS84
    #[serde(
        rename = "geographicCoordinates",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub geographic_coordinates: Option<GeographicCoordinates>,
}

/// Conjunto de informações referentes às formas para contatar o cliente.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BusinessContacts {
    /// Lista de endereços da pessoa jurídica
    #[serde(rename = "postalAddresses")]
    pub postal_addresses: Vec<BusinessPostalAddress>,
    /// Lista com telefones de contato da pessoa jurídica
    #[serde(rename = "phones")]
    pub phones: Vec<CustomerPhone>,
    /// Lista e-mails de contato
    #[serde(rename = "emails")]
    pub emails: Vec<CustomerEmail>,
}

/// Conjunto de informações relativas a Identificação ou seja a ação e o efeito de identificar de forma única a pessoa jurídica através de seus dados cadastrais
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BusinessIdentificationData {
    /// Data e hora da atualização dos campos \&lt;_endpoint_\&gt;, conforme especificação RFC-3339, formato UTC. Quando não existente uma data vinculada especificamente ao bloco, assumir a data e hora de atualização do cadastro como um todo.
    #[serde(rename = "updateDateTime")]
    pub update_date_time: String,
    /// Um identificador único e imutável usado para identificar o recurso cliente pessoa jurídica. Este identificador não tem significado para o cliente que deu o consentimento
    #[serde(rename = "businessId")]
    pub business_id: String,
    /// Nome da Marca reportada pelo participante no Open Finance. Recomenda-se utilizar, sempre que possível, o mesmo nome de marca atribuído no campo do diretório Customer Friendly Server Name (Authorisation Server).
    #[serde(rename = "brandName")]
    pub brand_name: String,
    /// Razão social da empresa consultada é o termo registrado sob o qual uma pessoa jurídica (PJ) se individualiza e exerce suas atividades. Também pode ser chamada por denominação social ou firma empresarial
    #[serde(rename = "companyName")]
    pub company_name: String,
    /// Nome fantasia da pessoa jurídica, se houver. (É o nome popular da empresa, utilizado para divulgação da empresa e melhor fixação com o público). De preenchimento obrigatório se houver
    #[serde(rename = "tradeName", default, skip_serializing_if = "Option::is_none")]
    pub trade_name: Option<String>,
    /// Data de constituição da empresa, conforme especificação RFC-3339.
    #[serde(rename = "incorporationDate")]
    pub incorporation_date: String,
    /// Número completo do CNPJ da Empresa consultada - o CNPJ corresponde ao número de inscrição no Cadastro de Pessoa Jurídica. Deve-se ter apenas os números do CNPJ, sem máscara
    #[serde(rename = "cnpjNumber")]
    pub cnpj_number: String,
    /// Número completo do CNPJ da instituição responsável pelo Cadastro - o CNPJ corresponde ao número de inscrição no Cadastro de Pessoa Jurídica. Deve-se ter apenas os números do CNPJ, sem máscara
    #[serde(rename = "companiesCnpj")]
    pub companies_cnpj: Vec<String>,
    /// Relação dos demais documentos
    #[serde(
        rename = "otherDocuments",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub other_documents: Option<Vec<BusinessOtherDocument>>,
    /// Lista relativa às informações das partes envolvidas, como: sócio e/ou administrador. Objeto de envio obrigatório para todos os CNPJs que possuam sócios e/ou administradores no cadastro do QSA (Quadro de Sócios e Administradores)
    #[serde(rename = "parties")]
    pub parties: Vec<PartiesParticipation>,
    /// Conjunto de informações referentes às formas para contatar o cliente.
    #[serde(rename = "contacts")]
    pub contacts: BusinessContacts,
}

/// `EconomicActivity`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EconomicActivity {
    /// Traz o código do ramo da atividade principal da empresa consultada, segundo padrão CNAE (Classificação Nacional de Atividades Econômicas)
    #[serde(rename = "code")]
    pub code: String,
    /// Indica se é o ramo principal de atividade da empresa quando true e se é o ramo secundário quando false. \[Restrição\] Somente uma ocorrência relativa ao código da atividade econômica principal deve trazer o valor true.
    #[serde(rename = "isMain")]
    pub is_main: bool,
}

/// Traz a frequência ou período do faturamento informado. "O faturamento é calculado a partir de todos os benefícios que a empresa conseguiu com sua atividade econômica em um determinado período. Esses benefícios são os rendimentos ou ganhos da organização através de suas vendas ou serviços prestados".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum EnumInformedRevenueFrequency {
    /// `DIARIA`
    #[serde(rename = "DIARIA")]
    Diaria,
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

/// Valor do patrimônio informado
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InformedRevenueAmount {
    /// Valor do patrimônio informado. Expresso em valor monetário com no mínimo 2 casas e no máximo 4 casas decimais. Patrimônio é o conjunto de bens vinculado a uma pessoa ou a uma entidade.
    #[serde(rename = "amount")]
    pub amount: String,
    /// Moeda referente ao valor monetário, seguindo o modelo ISO-4217.
    #[serde(rename = "currency")]
    pub currency: String,
}

/// `InformedRevenue`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InformedRevenue {
    /// Traz a frequência ou período do faturamento informado. "O faturamento é calculado a partir de todos os benefícios que a empresa conseguiu com sua atividade econômica em um determinado período. Esses benefícios são os rendimentos ou ganhos da organização através de suas vendas ou serviços prestados".
    #[serde(rename = "frequency", default, skip_serializing_if = "Option::is_none")]
    pub frequency: Option<EnumInformedRevenueFrequency>,
    /// Texto livre para complementar informação relativa ao patrimonio.
    #[serde(
        rename = "frequencyAdditionalInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub frequency_additional_info: Option<String>,
    /// Valor do patrimônio informado
    #[serde(rename = "amount")]
    pub amount: InformedRevenueAmount,
    /// Ano de referência da Renda, conforme especificação RFC-3339.
    #[serde(rename = "year", default, skip_serializing_if = "Option::is_none")]
    pub year: Option<serde_json::Number>,
}

/// `BusinessInformedPatrimony`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BusinessInformedPatrimony {
    /// Valor do patrimônio informado
    #[serde(rename = "amount")]
    pub amount: InformedPatrimonyAmount,
    /// Data de referência do Patrimônio, conforme especificação RFC-3339.
    #[serde(rename = "date")]
    pub date: String,
}

/// Objeto que reúne as informações relativas ao processo de qualificação. Considera-se qualificação as informações que permitam as instituições apreciar, avaliar, caracterizar e classificar o cliente com a finalidade de conhecer o seu perfil de risco e sua capacidade econômico-financeira
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BusinessQualificationData {
    /// Data e hora da atualização dos campos \&lt;_endpoint_\&gt;, conforme especificação RFC-3339, formato UTC. Quando não existente uma data vinculada especificamente ao bloco, assumir a data e hora de atualização do cadastro como um todo.
    #[serde(rename = "updateDateTime")]
    pub update_date_time: String,
    /// Lista dos demais códigos relativos às demais atividades econômicas da empresa, segundo padrão CNAE (Classificação Nacional de Atividades Econômicas). De preenchimento obrigatório, se houver
    #[serde(
        rename = "economicActivities",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub economic_activities: Option<Vec<EconomicActivity>>,
    /// `informedRevenue`.
    #[serde(
        rename = "informedRevenue",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub informed_revenue: Option<InformedRevenue>,
    /// `informedPatrimony`.
    #[serde(
        rename = "informedPatrimony",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub informed_patrimony: Option<BusinessInformedPatrimony>,
}

/// Tipo de representante. Representante legal - Nome Civil completo da Pessoa Natural que represente uma entidade ou uma empresa e é nomeado em seu ato constitutivo, ou seja, no contrato social ou estatuto social. Procurador - é qualquer pessoa que represente a Pessoa Natural em algum negócio,…
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum BusinessProcuratorType {
    /// `REPRESENTANTE_LEGAL`
    #[serde(rename = "REPRESENTANTE_LEGAL")]
    RepresentanteLegal,
    /// `PROCURADOR`
    #[serde(rename = "PROCURADOR")]
    Procurador,
}

/// `BusinessProcurator`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BusinessProcurator {
    /// Tipo de representante. Representante legal - Nome Civil completo da Pessoa Natural que represente uma entidade ou uma empresa e é nomeado em seu ato constitutivo, ou seja, no contrato social ou estatuto social. Procurador - é qualquer pessoa que represente a Pessoa Natural em algum negócio,…
    #[serde(rename = "type")]
    pub type_: BusinessProcuratorType,
    /// Identificação do Representante Legal ou Procurador. Número do cadastro nas Receita Federal (Preencher com CPF ou CNPJ sem formatação)
    #[serde(rename = "cnpjCpfNumber")]
    pub cnpj_cpf_number: String,
    /// Nome civil completo ou Razão Social
    #[serde(rename = "civilName")]
    pub civil_name: String,
    /// Nome social da pessoa natural, se houver. Aquele pelo qual travestis e transexuais se reconhecem, bem como são identificados por sua comunidade e em seu meio social, conforme Decreto Local.
    #[serde(
        rename = "socialName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub social_name: Option<String>,
}

/// `BusinessAccount`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BusinessAccount {
    /// Código identificador atribuído pelo Banco Central do Brasil às instituições participantes do STR (Sistema de Transferência de reservas).O Compe (Sistema de Compensação de Cheques e Outros Papéis) é um sistema que identifica e processa as compensações bancárias. Ele é representado por um código de…
    #[serde(rename = "compeCode")]
    pub compe_code: String,
    /// Código da Agência detentora da conta. (Agência é a dependência destinada ao atendimento aos clientes, ao público em geral e aos associados de cooperativas de crédito, no exercício de atividades da instituição, não podendo ser móvel ou transitória) \[Restrição\] Obrigatoriamente deve ser preenchido…
    #[serde(
        rename = "branchCode",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub branch_code: Option<String>,
    /// Número da conta
    #[serde(rename = "number")]
    pub number: String,
    /// Dígito da conta
    #[serde(rename = "checkDigit")]
    pub check_digit: String,
    /// Tipos de contas. Modalidades tradicionais previstas pela Resolução 4.753, não contemplando contas vinculadas, conta de domiciliados no exterior, contas em moedas estrangeiras e conta correspondente moeda eletrônica. Vide Enum:
    #[serde(rename = "type")]
    pub type_: EnumAccountTypeCustomers,
}

/// Objeto que reúne as informações relativas ao relacionamento do cliente junto à Instituição. Considera-se relacionamento as informações que permitam conhecer desde quando a pessoa consultada é cliente da instituição, bem como um indicador dos produtos e serviços que ela consome atualmente e seus…
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BusinessFinancialRelationData {
    /// Data e hora da atualização dos campos \&lt;_endpoint_\&gt;, conforme especificação RFC-3339, formato UTC. Quando não existente uma data vinculada especificamente ao bloco, assumir a data e hora de atualização do cadastro como um todo.
    #[serde(rename = "updateDateTime")]
    pub update_date_time: String,
    /// Data de início de relacionamento com a Instituição Financeira. Deve trazer o menor valor entre a informação reportada ao BACEN pelo DOC 3040 e CCS.
    #[serde(rename = "startDate")]
    pub start_date: String,
    /// `productsServicesType`.
    #[serde(rename = "productsServicesType")]
    pub products_services_type: Vec<EnumProductServiceType>,
    /// Lista dos representantes. De preenchimento obrigatório se houver representante.
    #[serde(rename = "procurators")]
    pub procurators: Vec<BusinessProcurator>,
    /// Lista de contas depósito à vista, poupança e pagamento pré-pagas mantidas pelo cliente na instituição transmissora.
    #[serde(rename = "accounts")]
    pub accounts: Vec<BusinessAccount>,
}
