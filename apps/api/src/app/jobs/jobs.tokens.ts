/** The jobs library's Redis command connection (stores); shared by API and worker roles. */
export const JOBS_REDIS = Symbol('JOBS_REDIS');
/** Where handlers get registry logins (the credential vault). */
export const CREDENTIAL_SOURCE = Symbol('CREDENTIAL_SOURCE');
/** Where the BUILD handler gets build secrets (the secret store). */
export const BUILD_SECRET_SOURCE = Symbol('BUILD_SECRET_SOURCE');
