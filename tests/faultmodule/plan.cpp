// SPDX-License-Identifier: Apache-2.0
#include "tests/faultmodule/plan.hpp"

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <utility>

#include "pkcs11/rv_names.hpp"
#include "tests/faultmodule/functions.hpp"

namespace kunci::faults {

namespace {

using Json = nlohmann::json;

const std::vector<std::pair<std::string_view, CK_FLAGS>>& flagTable() {
    static const std::vector<std::pair<std::string_view, CK_FLAGS>> table{
        {"CKF_USER_PIN_COUNT_LOW", CKF_USER_PIN_COUNT_LOW},
        {"CKF_USER_PIN_FINAL_TRY", CKF_USER_PIN_FINAL_TRY},
        {"CKF_USER_PIN_LOCKED", CKF_USER_PIN_LOCKED},
        {"CKF_PROTECTED_AUTHENTICATION_PATH", CKF_PROTECTED_AUTHENTICATION_PATH},
        {"CKF_WRITE_PROTECTED", CKF_WRITE_PROTECTED},
        {"CKF_LOGIN_REQUIRED", CKF_LOGIN_REQUIRED},
        {"CKF_USER_PIN_TO_BE_CHANGED", CKF_USER_PIN_TO_BE_CHANGED},
        {"CKF_USER_PIN_INITIALIZED", CKF_USER_PIN_INITIALIZED},
        {"CKF_TOKEN_INITIALIZED", CKF_TOKEN_INITIALIZED},
    };
    return table;
}

const std::vector<std::pair<std::string_view, CK_MECHANISM_TYPE>>& mechanismTable() {
    static const std::vector<std::pair<std::string_view, CK_MECHANISM_TYPE>> table{
        {"CKM_RSA_PKCS_KEY_PAIR_GEN", CKM_RSA_PKCS_KEY_PAIR_GEN},
        {"CKM_RSA_PKCS", CKM_RSA_PKCS},
        {"CKM_SHA256_RSA_PKCS", CKM_SHA256_RSA_PKCS},
        {"CKM_EC_KEY_PAIR_GEN", CKM_EC_KEY_PAIR_GEN},
        {"CKM_ECDSA", CKM_ECDSA},
    };
    return table;
}

[[noreturn]] void invalid(const std::string& where, const std::string& what) {
    throw std::invalid_argument("fault plan: " + where + ": " + what);
}

// Keys starting with '_' or named "comment" are notes for the reader, ignored.
bool isNote(const std::string& key) {
    return key == "comment" || key.starts_with("_");
}

void checkKeys(const Json& object, const std::vector<std::string_view>& allowed,
               const std::string& where) {
    if (!object.is_object()) {
        invalid(where, "must be an object");
    }
    for (const auto& [key, value] : object.items()) {
        if (!isNote(key) && std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
            invalid(where, "unknown field \"" + key + "\"");
        }
    }
}

std::string stringField(const Json& object, const char* key, const std::string& where) {
    const Json& value = object.at(key);
    if (!value.is_string()) {
        invalid(where + "." + key, "must be a string");
    }
    return value.get<std::string>();
}

std::uint64_t positiveField(const Json& object, const char* key, const std::string& where) {
    const Json& value = object.at(key);
    if (!value.is_number_unsigned() || value.get<std::uint64_t>() == 0) {
        invalid(where + "." + key, "must be a positive integer");
    }
    return value.get<std::uint64_t>();
}

CK_RV returnField(const Json& value, const std::string& where) {
    if (value.is_number_unsigned()) {
        return static_cast<CK_RV>(value.get<std::uint64_t>());
    }
    if (value.is_string()) {
        if (auto known = ckrFromName(value.get<std::string>())) {
            return *known;
        }
    }
    invalid(where, "must be a CKR_ name or an unsigned number, got " + value.dump());
}

Rule parseRule(const Json& object, const std::string& where) {
    checkKeys(object,
              {"function", "call", "from", "globalCall", "return", "action", "after", "delayMs",
               "holdWhileExists", "pullToken", "onlyWhileExists"},
              where);
    Rule rule;
    if (!object.contains("function")) {
        invalid(where, "\"function\" is required");
    }
    rule.function = stringField(object, "function", where);
    if (rule.function != "*" && !isFunctionName(rule.function)) {
        invalid(where + ".function", "unknown PKCS#11 function \"" + rule.function + "\"");
    }
    int selectors = 0;
    for (const auto& [key, when] : {std::pair<const char*, When>{"call", When::Call},
                                    {"from", When::From},
                                    {"globalCall", When::GlobalCall}}) {
        if (object.contains(key)) {
            ++selectors;
            rule.when = when;
            rule.n = positiveField(object, key, where);
        }
    }
    if (selectors > 1) {
        invalid(where, "at most one of \"call\", \"from\", \"globalCall\"");
    }
    if (object.contains("return")) {
        rule.returnValue = returnField(object["return"], where + ".return");
    }
    if (object.contains("action")) {
        if (stringField(object, "action", where) != "kill") {
            invalid(where + ".action", "the only action is \"kill\"");
        }
        rule.kill = true;
    }
    if (object.contains("after")) {
        if (!object["after"].is_boolean()) {
            invalid(where + ".after", "must be a boolean");
        }
        rule.after = object["after"].get<bool>();
        if (rule.after && !rule.kill && !object.contains("return")) {
            invalid(where + ".after", "only a kill or return rule may say \"after\"");
        }
    }
    if (object.contains("delayMs")) {
        const Json& delay = object["delayMs"];
        if (!delay.is_number_unsigned() ||
            delay.get<std::uint64_t>() > std::numeric_limits<std::uint32_t>::max()) {
            invalid(where + ".delayMs", "must be an unsigned integer of milliseconds");
        }
        rule.delayMs = delay.get<std::uint32_t>();
    }
    if (object.contains("holdWhileExists")) {
        rule.holdWhileExists = stringField(object, "holdWhileExists", where);
        if (rule.holdWhileExists.empty()) {
            invalid(where + ".holdWhileExists", "must name a file");
        }
    }
    if (object.contains("onlyWhileExists")) {
        rule.onlyWhileExists = stringField(object, "onlyWhileExists", where);
        if (rule.onlyWhileExists.empty()) {
            invalid(where + ".onlyWhileExists", "must name a file");
        }
    }
    if (object.contains("pullToken")) {
        if (!object["pullToken"].is_boolean()) {
            invalid(where + ".pullToken", "must be a boolean");
        }
        rule.pullToken = object["pullToken"].get<bool>();
    }
    if (rule.kill && rule.returnValue) {
        invalid(where, "a rule either returns or kills, not both");
    }
    if (!rule.kill && !rule.returnValue && !object.contains("delayMs") &&
        rule.holdWhileExists.empty() && !rule.pullToken) {
        invalid(where,
                "a rule needs an effect: \"return\", \"action\", \"delayMs\", "
                "\"holdWhileExists\" or \"pullToken\"");
    }
    return rule;
}

CK_FLAGS flagList(const Json& list, const std::string& where) {
    if (!list.is_array()) {
        invalid(where, "must be an array of CKF_ names");
    }
    CK_FLAGS flags = 0;
    for (const auto& name : list) {
        const auto flag = name.is_string() ? tokenFlagFromName(name.get<std::string>())
                                           : std::optional<CK_FLAGS>();
        if (!flag) {
            invalid(where, "unknown token flag " + name.dump());
        }
        flags |= *flag;
    }
    return flags;
}

std::map<CK_MECHANISM_TYPE, MechanismSizes> mechanismSizesField(const Json& object) {
    if (!object.is_object()) {
        invalid("mechanismInfo", "must be an object of CKM_ names");
    }
    std::map<CK_MECHANISM_TYPE, MechanismSizes> sizes;
    for (const auto& [name, entry] : object.items()) {
        if (isNote(name)) {
            continue;
        }
        const std::string where = "mechanismInfo." + name;
        const auto mechanism = mechanismFromName(name);
        if (!mechanism) {
            invalid(where, "unknown mechanism (known: the CKM_ names of docs/faults.md)");
        }
        checkKeys(entry, {"minKeySize", "maxKeySize"}, where);
        MechanismSizes& given = sizes[*mechanism];
        for (const auto& [key, field] :
             {std::pair<const char*, std::optional<CK_ULONG>*>{"minKeySize", &given.minKeySize},
              {"maxKeySize", &given.maxKeySize}}) {
            if (entry.contains(key)) {
                if (!entry[key].is_number_unsigned()) {
                    invalid(where + "." + key, "must be an unsigned integer");
                }
                *field = static_cast<CK_ULONG>(entry[key].get<std::uint64_t>());
            }
        }
    }
    return sizes;
}

}  // namespace

bool Rule::matches(std::string_view calledFunction, std::uint64_t callNumber,
                   std::uint64_t globalIndex) const {
    if (function != "*" && function != calledFunction) {
        return false;
    }
    switch (when) {
        case When::Every:
            return true;
        case When::Call:
            return callNumber == n;
        case When::From:
            return callNumber >= n;
        case When::GlobalCall:
            return globalIndex == n;
    }
    return false;
}

const Rule* Plan::match(std::string_view function, std::uint64_t callNumber,
                        std::uint64_t globalIndex, FileExists fileExists) const {
    for (const auto& rule : rules) {
        if (rule.matches(function, callNumber, globalIndex) &&
            (rule.onlyWhileExists.empty() ||
             (fileExists != nullptr && fileExists(rule.onlyWhileExists)))) {
            return &rule;
        }
    }
    return nullptr;
}

Plan parsePlan(std::string_view jsonText) {
    Json root;
    try {
        root = Json::parse(jsonText);
    } catch (const Json::parse_error& error) {
        invalid("JSON", error.what());
    }
    checkKeys(root,
              {"module", "trace", "rules", "tokenFlags", "padPin", "pinLock", "removedFile",
               "mechanismInfo"},
              "plan");
    Plan plan;
    if (root.contains("module")) {
        plan.module = stringField(root, "module", "plan");
    }
    if (root.contains("trace")) {
        plan.trace = stringField(root, "trace", "plan");
    }
    if (root.contains("removedFile")) {
        plan.removedFile = stringField(root, "removedFile", "plan");
    }
    if (root.contains("padPin")) {
        plan.padPin = stringField(root, "padPin", "plan");
    }
    if (root.contains("rules")) {
        const Json& rules = root["rules"];
        if (!rules.is_array()) {
            invalid("plan.rules", "must be an array");
        }
        for (std::size_t i = 0; i < rules.size(); ++i) {
            plan.rules.push_back(parseRule(rules[i], "rules[" + std::to_string(i) + "]"));
        }
    }
    if (root.contains("tokenFlags")) {
        const Json& flags = root["tokenFlags"];
        checkKeys(flags, {"set", "clear"}, "tokenFlags");
        if (flags.contains("set")) {
            plan.setFlags = flagList(flags["set"], "tokenFlags.set");
        }
        if (flags.contains("clear")) {
            plan.clearFlags = flagList(flags["clear"], "tokenFlags.clear");
        }
    }
    if (root.contains("pinLock")) {
        const Json& lock = root["pinLock"];
        checkKeys(lock, {"maxTries", "stateFile"}, "pinLock");
        PinLock pinLock;
        if (lock.contains("maxTries")) {
            const auto tries = positiveField(lock, "maxTries", "pinLock");
            if (tries > 1000) {
                invalid("pinLock.maxTries", "must be at most 1000");
            }
            pinLock.maxTries = static_cast<std::uint32_t>(tries);
        }
        if (!lock.contains("stateFile")) {
            invalid("pinLock", "\"stateFile\" is required");
        }
        pinLock.stateFile = stringField(lock, "stateFile", "pinLock");
        plan.pinLock = pinLock;
    }
    if (root.contains("mechanismInfo")) {
        plan.mechanismSizes = mechanismSizesField(root["mechanismInfo"]);
    }
    for (std::size_t i = 0; i < plan.rules.size(); ++i) {
        if (plan.rules[i].pullToken && plan.removedFile.empty()) {
            invalid("rules[" + std::to_string(i) + "].pullToken", "needs the plan's removedFile");
        }
    }
    return plan;
}

const std::vector<std::string_view>& functionNames() {
#define KUNCI_FAULT_NAME(name, kind) #name,
    static const std::vector<std::string_view> names{KUNCI_FAULT_FUNCTIONS(KUNCI_FAULT_NAME)};
#undef KUNCI_FAULT_NAME
    return names;
}

bool isFunctionName(std::string_view name) {
    const auto& names = functionNames();
    return std::find(names.begin(), names.end(), name) != names.end();
}

std::optional<CK_RV> ckrFromName(std::string_view name) {
    for (const auto& [value, known] : pkcs11::kReturnValueNames) {
        if (known == name) {
            return value;
        }
    }
    return std::nullopt;
}

std::string_view ckrName(CK_RV value) {
    for (const auto& [known, name] : pkcs11::kReturnValueNames) {
        if (known == value) {
            return name;
        }
    }
    return "";
}

std::optional<CK_MECHANISM_TYPE> mechanismFromName(std::string_view name) {
    for (const auto& [known, value] : mechanismTable()) {
        if (known == name) {
            return value;
        }
    }
    return std::nullopt;
}

std::optional<CK_FLAGS> tokenFlagFromName(std::string_view name) {
    for (const auto& [known, value] : flagTable()) {
        if (known == name) {
            return value;
        }
    }
    return std::nullopt;
}

PinLockState parsePinLockState(std::string_view jsonText) {
    PinLockState state;
    const Json root = Json::parse(jsonText, nullptr, false);
    if (!root.is_object()) {
        return state;
    }
    auto read = [&](const char* key, std::uint32_t& into) {
        if (root.contains(key) && root[key].is_number_unsigned()) {
            into = root[key].get<std::uint32_t>();
        }
    };
    read("failures", state.failures);
    read("attempts", state.attempts);
    read("refused", state.refused);
    return state;
}

std::string formatPinLockState(const PinLockState& state) {
    return Json{{"failures", state.failures},
                {"attempts", state.attempts},
                {"refused", state.refused}}
               .dump() +
           "\n";
}

CK_FLAGS pinLockFlags(const PinLock& lock, const PinLockState& state) {
    if (state.failures >= lock.maxTries) {
        return CKF_USER_PIN_LOCKED;
    }
    CK_FLAGS flags = 0;
    if (state.failures > 0) {
        flags |= CKF_USER_PIN_COUNT_LOW;
    }
    if (lock.maxTries - state.failures == 1) {
        flags |= CKF_USER_PIN_FINAL_TRY;
    }
    return flags;
}

}  // namespace kunci::faults
