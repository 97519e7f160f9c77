/** Namespace URIs of the CEB messages (official 2022-05 schemas). */
export const CEB_NS = 'http://www.chinaport.gov.cn/ceb';
export const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';
export const DS_NS = 'http://www.w3.org/2000/09/xmldsig#';
/** Declarations use this prefix; receipts from customs may use any prefix or a default namespace. */
export const CEB_PREFIX = 'ceb';
