// OpenSSL's libcrypto, for SHA-256 with the CPU's SHA instructions (Support/SHA256.swift).
#include <openssl/evp.h>
