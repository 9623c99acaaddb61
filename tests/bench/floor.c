// SPDX-License-Identifier: Apache-2.0
/* The benchmark's floor: the least a program must do on the token, in plain C against the
 * module, with nothing of kunci in it. Every figure of the agent is divided by one of these.
 *
 *   kunci-bench-floor idle MODULE
 *       dlopen + C_GetFunctionList + C_Initialize, print "ready", wait for end of stdin.
 *   kunci-bench-floor keygen MODULE LABEL PIN KIND COUNT        KIND: ec-p256 | rsa-2048
 *       per sample: C_OpenSession + C_Login, one C_FindObjects for a random CKA_ID (the check
 *       the protocol asks before a new key id is used), then C_GenerateKeyPair + C_Sign with
 *       the agent's templates; the pair is destroyed afterwards, untimed. Prints
 *       "<keygen+sign us> <open+login us> <find-by-id us>" per sample: the first is the floor.
 *   kunci-bench-floor certlist MODULE LABEL COUNT
 *       per sample: a read-only session, C_FindObjects for every certificate, and CKA_VALUE,
 *       CKA_LABEL and CKA_ID of each: what listing a token's certificates needs at least.
 *   kunci-bench-floor populate MODULE LABEL PIN CERT.DER COUNT
 *       fills the token with COUNT objects: EC key pairs each with a certificate of the same
 *       CKA_ID (three objects), the remainder CA certificates without an id.
 *   kunci-bench-floor destroy-id MODULE LABEL PIN HEXID
 *       destroys every object with that CKA_ID.
 */
#include <dlfcn.h>
#include <p11-kit/pkcs11.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static CK_FUNCTION_LIST* p11;

static void die(const char* what, CK_RV rv) {
    fprintf(stderr, "kunci-bench-floor: %s failed: 0x%lx\n", what, (unsigned long)rv);
    exit(1);
}

static void check(CK_RV rv, const char* what) {
    if (rv != CKR_OK) {
        die(what, rv);
    }
}

static double nowMicros(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void loadModule(const char* path) {
    void* library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        fprintf(stderr, "kunci-bench-floor: %s\n", dlerror());
        exit(1);
    }
    CK_C_GetFunctionList getFunctionList =
        (CK_C_GetFunctionList)(uintptr_t)dlsym(library, "C_GetFunctionList");
    if (getFunctionList == NULL) {
        die("dlsym C_GetFunctionList", CKR_GENERAL_ERROR);
    }
    check(getFunctionList(&p11), "C_GetFunctionList");
    CK_C_INITIALIZE_ARGS args;
    memset(&args, 0, sizeof args);
    args.flags = CKF_OS_LOCKING_OK;
    check(p11->C_Initialize(&args), "C_Initialize");
}

/* The slot of the initialised token with this label (blank padded to 32 in CK_TOKEN_INFO). */
static CK_SLOT_ID findSlot(const char* label) {
    CK_SLOT_ID slots[64];
    CK_ULONG count = 64;
    check(p11->C_GetSlotList(CK_TRUE, slots, &count), "C_GetSlotList");
    char padded[32];
    memset(padded, ' ', sizeof padded);
    memcpy(padded, label, strlen(label) < sizeof padded ? strlen(label) : sizeof padded);
    for (CK_ULONG i = 0; i < count; ++i) {
        CK_TOKEN_INFO info;
        if (p11->C_GetTokenInfo(slots[i], &info) == CKR_OK &&
            memcmp(info.label, padded, sizeof padded) == 0) {
            return slots[i];
        }
    }
    fprintf(stderr, "kunci-bench-floor: no token labelled '%s'\n", label);
    exit(1);
}

static CK_SESSION_HANDLE openSession(CK_SLOT_ID slot, int readWrite, const char* pin) {
    CK_SESSION_HANDLE session;
    CK_FLAGS flags = CKF_SERIAL_SESSION | (readWrite ? CKF_RW_SESSION : 0);
    check(p11->C_OpenSession(slot, flags, NULL, NULL, &session), "C_OpenSession");
    if (pin != NULL) {
        check(p11->C_Login(session, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin)), "C_Login");
    }
    return session;
}

static void closeSession(CK_SESSION_HANDLE session, int loggedIn) {
    if (loggedIn) {
        p11->C_Logout(session);
    }
    p11->C_CloseSession(session);
}

static void randomId(CK_BYTE* id, size_t length) {
    static unsigned long counter;
    unsigned long seed = (unsigned long)getpid() * 2654435761UL + ++counter * 40503UL;
    for (size_t i = 0; i < length; ++i) {
        seed = seed * 6364136223846793005UL + 1442695040888963407UL;
        id[i] = (CK_BYTE)(seed >> 56);
    }
}

enum KeyKind { EC_P256, RSA_2048 };

static CK_BBOOL yes = CK_TRUE;
static CK_BBOOL no = CK_FALSE;
/* DER of the OID prime256v1, as CKA_EC_PARAMS wants it. */
static CK_BYTE p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static CK_BYTE exponent[] = {0x01, 0x00, 0x01};

/* The agent's templates (pkcs11/session.cpp generateKeyPair): the same objects, the same work. */
static void generatePair(CK_SESSION_HANDLE session, enum KeyKind kind, CK_BYTE* id,
                         CK_ULONG idLength, CK_OBJECT_HANDLE* publicKey,
                         CK_OBJECT_HANDLE* privateKey) {
    CK_OBJECT_CLASS privateClass = CKO_PRIVATE_KEY;
    CK_OBJECT_CLASS publicClass = CKO_PUBLIC_KEY;
    CK_KEY_TYPE keyType = kind == EC_P256 ? CKK_EC : CKK_RSA;
    CK_ULONG bits = 2048;
    char label[] = "floor";
    CK_ATTRIBUTE privateTemplate[] = {
        {CKA_CLASS, &privateClass, sizeof privateClass},
        {CKA_KEY_TYPE, &keyType, sizeof keyType},
        {CKA_TOKEN, &yes, sizeof yes},
        {CKA_PRIVATE, &yes, sizeof yes},
        {CKA_SENSITIVE, &yes, sizeof yes},
        {CKA_EXTRACTABLE, &no, sizeof no},
        {CKA_SIGN, &yes, sizeof yes},
        {CKA_ID, id, idLength},
        {CKA_LABEL, label, sizeof label - 1},
    };
    CK_ATTRIBUTE publicTemplate[] = {
        {CKA_CLASS, &publicClass, sizeof publicClass},
        {CKA_KEY_TYPE, &keyType, sizeof keyType},
        {CKA_TOKEN, &yes, sizeof yes},
        {CKA_VERIFY, &yes, sizeof yes},
        {CKA_ID, id, idLength},
        {CKA_LABEL, label, sizeof label - 1},
        {CKA_EC_PARAMS, p256, sizeof p256},
        {CKA_PUBLIC_EXPONENT, exponent, sizeof exponent},
    };
    CK_ULONG publicCount = 7;
    CK_MECHANISM mechanism = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    if (kind == RSA_2048) {
        mechanism.mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN;
        publicTemplate[6].type = CKA_MODULUS_BITS;
        publicTemplate[6].pValue = &bits;
        publicTemplate[6].ulValueLen = sizeof bits;
        publicCount = 8;
    }
    check(p11->C_GenerateKeyPair(session, &mechanism, publicTemplate, publicCount, privateTemplate,
                                 sizeof privateTemplate / sizeof *privateTemplate, publicKey,
                                 privateKey),
          "C_GenerateKeyPair");
}

/* One signature as the agent makes it for a CSR: ECDSA over a SHA-256 hash, or
 * SHA256-RSA-PKCS over the request's to-be-signed bytes (about 300 for RSA-2048). */
static void signOnce(CK_SESSION_HANDLE session, enum KeyKind kind, CK_OBJECT_HANDLE privateKey) {
    CK_BYTE data[300];
    memset(data, 0x5a, sizeof data);
    CK_MECHANISM mechanism = {kind == EC_P256 ? CKM_ECDSA : CKM_SHA256_RSA_PKCS, NULL, 0};
    CK_ULONG dataLength = kind == EC_P256 ? 32 : sizeof data;
    CK_BYTE signature[512];
    CK_ULONG signatureLength = sizeof signature;
    check(p11->C_SignInit(session, &mechanism, privateKey), "C_SignInit");
    check(p11->C_Sign(session, data, dataLength, signature, &signatureLength), "C_Sign");
}

static int keygen(const char* label, const char* pin, const char* kindName, long count) {
    enum KeyKind kind;
    if (strcmp(kindName, "ec-p256") == 0) {
        kind = EC_P256;
    } else if (strcmp(kindName, "rsa-2048") == 0) {
        kind = RSA_2048;
    } else {
        fprintf(stderr, "kunci-bench-floor: unknown key kind %s\n", kindName);
        return 2;
    }
    CK_SLOT_ID slot = findSlot(label);
    for (long i = 0; i < count; ++i) {
        double start = nowMicros();
        CK_SESSION_HANDLE session = openSession(slot, 1, pin);
        double loggedIn = nowMicros();
        CK_BYTE id[20];
        randomId(id, sizeof id);
        CK_ATTRIBUTE search = {CKA_ID, id, sizeof id};
        CK_OBJECT_HANDLE found[1];
        CK_ULONG n = 0;
        check(p11->C_FindObjectsInit(session, &search, 1), "C_FindObjectsInit");
        check(p11->C_FindObjects(session, found, 1, &n), "C_FindObjects");
        check(p11->C_FindObjectsFinal(session), "C_FindObjectsFinal");
        double checked = nowMicros();
        CK_OBJECT_HANDLE publicKey, privateKey;
        generatePair(session, kind, id, sizeof id, &publicKey, &privateKey);
        signOnce(session, kind, privateKey);
        double done = nowMicros();
        check(p11->C_DestroyObject(session, privateKey), "C_DestroyObject");
        check(p11->C_DestroyObject(session, publicKey), "C_DestroyObject");
        closeSession(session, 1);
        printf("%.1f %.1f %.1f\n", done - checked, loggedIn - start, checked - loggedIn);
        fflush(stdout);
    }
    return 0;
}

static void readAttribute(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object,
                          CK_ATTRIBUTE_TYPE type) {
    CK_ATTRIBUTE query = {type, NULL, 0};
    if (p11->C_GetAttributeValue(session, object, &query, 1) != CKR_OK ||
        query.ulValueLen == CK_UNAVAILABLE_INFORMATION) {
        return;
    }
    CK_BYTE* value = malloc(query.ulValueLen + 1);
    query.pValue = value;
    check(p11->C_GetAttributeValue(session, object, &query, 1), "C_GetAttributeValue");
    free(value);
}

static int certlist(const char* label, long count) {
    CK_SLOT_ID slot = findSlot(label);
    CK_OBJECT_CLASS certificateClass = CKO_CERTIFICATE;
    CK_ATTRIBUTE search = {CKA_CLASS, &certificateClass, sizeof certificateClass};
    for (long i = 0; i < count; ++i) {
        double start = nowMicros();
        CK_SESSION_HANDLE session = openSession(slot, 0, NULL);
        check(p11->C_FindObjectsInit(session, &search, 1), "C_FindObjectsInit");
        CK_OBJECT_HANDLE found[64];
        CK_ULONG n = 0;
        long certificates = 0;
        do {
            check(p11->C_FindObjects(session, found, 64, &n), "C_FindObjects");
            for (CK_ULONG k = 0; k < n; ++k) {
                readAttribute(session, found[k], CKA_VALUE);
                readAttribute(session, found[k], CKA_LABEL);
                readAttribute(session, found[k], CKA_ID);
                ++certificates;
            }
        } while (n > 0);
        check(p11->C_FindObjectsFinal(session), "C_FindObjectsFinal");
        closeSession(session, 0);
        printf("%.1f %ld\n", nowMicros() - start, certificates);
        fflush(stdout);
    }
    return 0;
}

static CK_BYTE* readWholeFile(const char* path, CK_ULONG* length) {
    FILE* file = fopen(path, "rb");
    if (file == NULL) {
        perror(path);
        exit(1);
    }
    static CK_BYTE buffer[65536];
    *length = fread(buffer, 1, sizeof buffer, file);
    fclose(file);
    return buffer;
}

/* One DER element at *at: its tag, and the position and length of its contents. */
static int derElement(const CK_BYTE* der, CK_ULONG end, CK_ULONG* at, CK_BYTE* tag,
                      CK_ULONG* contents, CK_ULONG* length) {
    CK_ULONG pos = *at;
    if (pos + 2 > end) {
        return 0;
    }
    *tag = der[pos++];
    CK_ULONG size = der[pos++];
    if (size & 0x80) {
        CK_ULONG bytes = size & 0x7f;
        size = 0;
        while (bytes-- > 0 && pos < end) {
            size = (size << 8) | der[pos++];
        }
    }
    if (pos + size > end) {
        return 0;
    }
    *contents = pos;
    *length = size;
    *at = pos + size;
    return 1;
}

/* The subject Name of an X.509 certificate (SoftHSM requires CKA_SUBJECT on a certificate):
 * Certificate > TBSCertificate > [0] version?, serial, signature, issuer, validity, subject. */
static void certificateSubject(const CK_BYTE* der, CK_ULONG length, CK_ULONG* subject,
                               CK_ULONG* subjectLength) {
    CK_BYTE tag;
    CK_ULONG at = 0, contents, size;
    if (!derElement(der, length, &at, &tag, &contents, &size)) {
        die("parse the certificate", CKR_GENERAL_ERROR);
    }
    at = contents;
    if (!derElement(der, length, &at, &tag, &contents, &size)) {
        die("parse the certificate", CKR_GENERAL_ERROR);
    }
    CK_ULONG tbsEnd = contents + size;
    at = contents;
    for (int field = 0; field < 6; ++field) {
        CK_ULONG start = at;
        if (!derElement(der, tbsEnd, &at, &tag, &contents, &size)) {
            die("parse the certificate", CKR_GENERAL_ERROR);
        }
        if (field == 0 && tag != 0xa0) {
            ++field; /* no version: this was the serial number */
        }
        if (field == 5) {
            *subject = start;
            *subjectLength = at - start;
            return;
        }
    }
}

static void createCertificate(CK_SESSION_HANDLE session, CK_BYTE* der, CK_ULONG derLength,
                              CK_BYTE* id, CK_ULONG idLength, const char* label) {
    CK_ULONG subject = 0, subjectLength = 0;
    certificateSubject(der, derLength, &subject, &subjectLength);
    CK_OBJECT_CLASS certificateClass = CKO_CERTIFICATE;
    CK_CERTIFICATE_TYPE certificateType = CKC_X_509;
    CK_ATTRIBUTE certificate[] = {
        {CKA_CLASS, &certificateClass, sizeof certificateClass},
        {CKA_CERTIFICATE_TYPE, &certificateType, sizeof certificateType},
        {CKA_TOKEN, &yes, sizeof yes},
        {CKA_PRIVATE, &no, sizeof no},
        {CKA_VALUE, der, derLength},
        {CKA_SUBJECT, der + subject, subjectLength},
        {CKA_LABEL, (void*)label, strlen(label)},
        {CKA_ID, id, idLength},
    };
    CK_ULONG attributes = sizeof certificate / sizeof *certificate - (id == NULL ? 1 : 0);
    CK_OBJECT_HANDLE handle;
    check(p11->C_CreateObject(session, certificate, attributes, &handle), "C_CreateObject");
}

static int populate(const char* label, const char* pin, const char* certificatePath, long count) {
    CK_ULONG derLength = 0;
    CK_BYTE* der = readWholeFile(certificatePath, &derLength);
    CK_SESSION_HANDLE session = openSession(findSlot(label), 1, pin);
    long made = 0;
    char name[64];
    for (long pair = 0; made + 3 <= count; ++pair, made += 3) {
        CK_BYTE id[20];
        randomId(id, sizeof id);
        CK_OBJECT_HANDLE publicKey, privateKey;
        generatePair(session, EC_P256, id, sizeof id, &publicKey, &privateKey);
        snprintf(name, sizeof name, "filler %ld", pair);
        createCertificate(session, der, derLength, id, sizeof id, name);
    }
    for (; made < count; ++made) {
        snprintf(name, sizeof name, "filler CA %ld", made);
        createCertificate(session, der, derLength, NULL, 0, name);
    }
    closeSession(session, 1);
    printf("%ld\n", made);
    return 0;
}

static int destroyId(const char* label, const char* pin, const char* hex) {
    CK_BYTE id[64];
    size_t length = strlen(hex) / 2;
    if (length == 0 || length > sizeof id) {
        fprintf(stderr, "kunci-bench-floor: bad id\n");
        return 2;
    }
    for (size_t i = 0; i < length; ++i) {
        unsigned int byte;
        if (sscanf(hex + 2 * i, "%2x", &byte) != 1) {
            fprintf(stderr, "kunci-bench-floor: bad id\n");
            return 2;
        }
        id[i] = (CK_BYTE)byte;
    }
    CK_SESSION_HANDLE session = openSession(findSlot(label), 1, pin);
    CK_ATTRIBUTE search = {CKA_ID, id, length};
    CK_OBJECT_HANDLE found[64];
    CK_ULONG n = 0;
    check(p11->C_FindObjectsInit(session, &search, 1), "C_FindObjectsInit");
    check(p11->C_FindObjects(session, found, 64, &n), "C_FindObjects");
    check(p11->C_FindObjectsFinal(session), "C_FindObjectsFinal");
    for (CK_ULONG k = 0; k < n; ++k) {
        check(p11->C_DestroyObject(session, found[k]), "C_DestroyObject");
    }
    closeSession(session, 1);
    return 0;
}

static int idle(void) {
    printf("ready\n");
    fflush(stdout);
    char line[64];
    while (fgets(line, sizeof line, stdin) != NULL) {
    }
    return 0;
}

int main(int argc, char** argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: see the comment at the top of tests/bench/floor.c\n");
        return 2;
    }
    const char* command = argv[1];
    loadModule(argv[2]);
    int status = 2;
    if (strcmp(command, "idle") == 0 && argc == 3) {
        status = idle();
    } else if (strcmp(command, "keygen") == 0 && argc == 7) {
        status = keygen(argv[3], argv[4], argv[5], atol(argv[6]));
    } else if (strcmp(command, "certlist") == 0 && argc == 5) {
        status = certlist(argv[3], atol(argv[4]));
    } else if (strcmp(command, "populate") == 0 && argc == 7) {
        status = populate(argv[3], argv[4], argv[5], atol(argv[6]));
    } else if (strcmp(command, "destroy-id") == 0 && argc == 6) {
        status = destroyId(argv[3], argv[4], argv[5]);
    } else {
        fprintf(stderr, "kunci-bench-floor: bad command line\n");
    }
    p11->C_Finalize(NULL);
    return status;
}
