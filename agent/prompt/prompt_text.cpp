// SPDX-License-Identifier: Apache-2.0
#include "agent/prompt/prompt_text.hpp"

#include <algorithm>
#include <cctype>
#include <utility>

namespace kunci::agent {
namespace {

/** The most a host name takes in a prompt, in bytes. */
constexpr std::size_t hostBudget = 64;

/** Length of the UTF-8 sequence at text[i] and its code point; 0 when it is not valid UTF-8. */
std::size_t decodeUtf8(std::string_view text, std::size_t i, char32_t& point) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t length = 0;
    char32_t min = 0;
    if (lead < 0x80) {
        point = lead;
        return 1;
    } else if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2, point = lead & 0x1F, min = 0x80;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3, point = lead & 0x0F, min = 0x800;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4, point = lead & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (i + length > text.size()) {
        return 0;
    }
    for (std::size_t k = 1; k < length; ++k) {
        const auto next = static_cast<unsigned char>(text[i + k]);
        if ((next & 0xC0) != 0x80) {
            return 0;
        }
        point = (point << 6) | (next & 0x3F);
    }
    if (point < min || point > 0x10FFFF || (point >= 0xD800 && point <= 0xDFFF)) {
        return 0;
    }
    return length;
}

/** Characters that could move the cursor, recolour a terminal, or reorder what a dialog shows. */
bool isControl(char32_t point) {
    return point < 0x20 || (point >= 0x7F && point <= 0x9F) || point == 0x200E || point == 0x200F ||
           (point >= 0x202A && point <= 0x202E) || (point >= 0x2066 && point <= 0x2069) ||
           point == 0x2028 || point == 0x2029;
}

}  // namespace

std::string shownText(std::string_view text, std::size_t budget) {
    std::string out;
    std::size_t used = 0;
    std::size_t cut = std::string::npos;  // where "..." goes if the whole does not fit
    for (std::size_t i = 0; i < text.size();) {
        char32_t point = 0;
        std::size_t length = decodeUtf8(text, i, point);
        std::string_view piece = text.substr(i, length);
        if (length == 0 || isControl(point)) {
            piece = "?";
            length = std::max<std::size_t>(length, 1);
        }
        const std::size_t cost = piece == "%" ? 3 : piece.size();
        if (cut == std::string::npos && used + cost + 3 > budget) {
            cut = out.size();
        }
        out += piece;
        used += cost;
        i += length;
    }
    if (used > budget) {
        out.resize(cut);
        out += "...";
    }
    return out;
}

std::string shownHost(std::string_view origin) {
    for (const std::string_view scheme : {"https://", "http://"}) {
        if (origin.starts_with(scheme)) {
            std::string_view host = origin.substr(scheme.size());
            host = host.substr(0, host.find('/'));
            return shownText(host, hostBudget);
        }
    }
    return shownText(origin, hostBudget);
}

namespace {

/** One sentence or phrase of kunci's, in both languages. */
struct Words {
    std::string id;
    std::string en;
};

/** A fact line: "Sertifikat: Budi Santoso (BSrE)" / "Certificate: Budi Santoso (BSrE)". */
struct Fact {
    Words label;
    Words value;
};

/** The sentences of one prompt, before they are laid out for pinentry or a dialog. */
struct Sentences {
    Words title;
    Words who;
    std::optional<Words> granted;
    std::vector<Fact> facts;
    Words effect;
    Words onlyIf;
};

/** How many bytes a text from outside may take; compactBudgets when a description would not fit
 *  in one Assuan line. */
struct Budgets {
    std::size_t host = hostBudget;
    std::size_t label = 48;
    std::size_t name = 64;
};

constexpr Budgets compactBudgets{24, 24, 24};

Words same(const std::string& text) {
    return {text, text};
}

/** "Budi Santoso (BSrE)": the certificate's holder and organisation. */
std::string holderPhrase(const CertificateHolder& holder, const Budgets& budgets) {
    const std::string name = shownText(holder.name, budgets.name);
    if (holder.organisation.empty()) {
        return name;
    }
    return name + " (" + shownText(holder.organisation, budgets.name) + ")";
}

bool isDigit(char c) {
    return c >= '0' && c <= '9';
}

/** The date in a label kunci wrote ("CN (YYYY-MM-DD)", renewal_engine's labelFor), split from
 *  the name before it. */
std::optional<std::pair<std::string_view, std::string_view>> keyLabelParts(std::string_view label) {
    constexpr std::string_view pattern = " (0000-00-00)";
    if (label.size() <= pattern.size()) {
        return std::nullopt;
    }
    const std::string_view tail = label.substr(label.size() - pattern.size());
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] == '0' ? !isDigit(tail[i]) : tail[i] != pattern[i]) {
            return std::nullopt;
        }
    }
    return std::pair{label.substr(0, label.size() - pattern.size()), tail.substr(2, 10)};
}

/** For which certificate: its holder; else the key's label, its date said to be the key's. */
std::optional<Fact> subjectFact(const PromptSubject& subject, const Budgets& budgets) {
    if (subject.holder && !subject.holder->name.empty()) {
        return Fact{{"Sertifikat:", "Certificate:"}, same(holderPhrase(*subject.holder, budgets))};
    }
    if (subject.keyLabel.empty()) {
        return std::nullopt;
    }
    const Words label{"Kunci:", "Key:"};
    if (const auto parts = keyLabelParts(subject.keyLabel)) {
        const std::string name = shownText(parts->first, budgets.name);
        const std::string date(parts->second);
        return Fact{label,
                    {name + " (kunci dibuat " + date + ")", name + " (key made " + date + ")"}};
    }
    return Fact{label, same(shownText(subject.keyLabel, budgets.name))};
}

Words grantedWords(const GrantedBy& granted, const Budgets& budgets) {
    if (!granted.holder) {
        return {"Diminta oleh server AMS.", "Requested by the AMS server."};
    }
    const std::string holder = shownText(*granted.holder, budgets.name);
    return {"Diminta oleh server AMS untuk " + holder + ".",
            "Requested by the AMS server for " + holder + "."};
}

Words effectOf(PromptTask task) {
    switch (task) {
        case PromptTask::ReadCertificates:
            return {"Sertifikat dan kunci di token akan dibaca; tidak ada yang diubah.",
                    "The certificates and keys on the token will be read; nothing is changed."};
        case PromptTask::MakeKey:
            return {
                "Kunci baru akan dibuat di token untuk sertifikat baru Anda; kunci lama tetap "
                "ada sampai sertifikat baru terpasang.",
                "A new key will be made on the token for your new certificate; the old key "
                "stays until the new certificate is installed."};
        case PromptTask::InstallCertificate:
            return {"Sertifikat baru Anda akan disimpan di token, di samping kunci barunya.",
                    "Your new certificate will be stored on the token, next to its new key."};
        case PromptTask::CancelRenewal:
            return {
                "Permintaan sertifikat baru dibatalkan: kunci baru yang dibuat untuknya "
                "dihapus dari token. Sertifikat lama tidak berubah.",
                "The request for a new certificate is cancelled: the new key made for it is "
                "deleted from the token. Your current certificate is not changed."};
        case PromptTask::RetireOld:
            return {
                "Sertifikat lama dan kuncinya akan dihapus dari token. Dokumen yang "
                "dienkripsi untuk sertifikat lama tidak dapat dibuka lagi dengan token ini.",
                "The old certificate and its key will be deleted from the token. Documents "
                "encrypted to the old certificate can then no longer be opened with this "
                "token."};
        case PromptTask::Sign:
            break;
    }
    return {
        "Sebuah dokumen akan ditandatangani atas nama Anda. Cocokkan kode ini dengan kode di "
        "halaman.",
        "A document will be signed in your name. Check that the page shows the same code."};
}

/** The facts every prompt names: the certificate, the signing code, a grant. */
void addFacts(Sentences& sentences, const PromptSubject& subject, const std::string& signingCode,
              const std::optional<GrantedBy>& granted, const Budgets& budgets) {
    if (auto fact = subjectFact(subject, budgets)) {
        sentences.facts.push_back(std::move(*fact));
    }
    if (!signingCode.empty()) {
        sentences.facts.push_back({{"Kode:", "Code:"}, same(shownText(signingCode, 64))});
    }
    if (granted) {
        sentences.granted = grantedWords(*granted, budgets);
    }
}

Sentences pinSentences(const PinRequest& request, const Budgets& budgets) {
    const std::string shownHostName = shownText(shownHost(request.origin), budgets.host);
    const std::string label = shownText(request.tokenLabel, budgets.label);
    Sentences sentences;
    sentences.title = {"kunci: PIN untuk " + shownHostName, "PIN for " + shownHostName};
    sentences.who =
        label.empty() ? Words{shownHostName + " meminta PIN token Anda.",
                              shownHostName + " asks for your token's PIN."}
                      : Words{shownHostName + " meminta PIN token \"" + label + "\".",
                              shownHostName + " asks for the PIN of the token \"" + label + "\"."};
    addFacts(sentences, request.subject, request.signingCode, request.granted, budgets);
    sentences.effect = effectOf(request.task);
    sentences.onlyIf = {
        "Ketik PIN hanya jika Anda sedang melakukan ini di " + shownHostName + " sekarang.",
        "Type the PIN only if you are doing this on " + shownHostName + " now."};
    return sentences;
}

Sentences consentSentences(const ConfirmRequest& request, const Budgets& budgets) {
    const std::string shownHostName = shownText(shownHost(request.origin), budgets.host);
    const std::string label = shownText(request.tokenLabel, budgets.label);
    Sentences sentences;
    sentences.title = {"kunci: izin untuk " + shownHostName, "permission for " + shownHostName};
    sentences.who = label.empty()
                        ? Words{shownHostName + " meminta izin memakai token Anda.",
                                shownHostName + " asks to use your token."}
                        : Words{shownHostName + " meminta izin memakai token \"" + label + "\".",
                                shownHostName + " asks to use the token \"" + label + "\"."};
    addFacts(sentences, request.subject, request.signingCode, request.granted, budgets);
    sentences.effect = effectOf(PromptTask::Sign);
    sentences.onlyIf = {
        "Izinkan hanya jika Anda sedang melakukan ini di " + shownHostName + " sekarang.",
        "Allow only if you are doing this on " + shownHostName + " now."};
    return sentences;
}

std::string joined(const Words& words, std::string_view between) {
    return words.id + std::string(between) + words.en;
}

/** kunci's own words: Indonesian, then English on the line below. */
std::string bilingual(const Words& words) {
    return joined(words, "\n");
}

/** One language's block of a pinentry description. */
std::string descriptionBlock(const Sentences& sentences, std::string Words::*language,
                             const std::optional<Words>& howToAllow) {
    std::string block = sentences.who.*language + "\n";
    if (sentences.granted) {
        block += (*sentences.granted).*language + "\n";
    }
    for (const Fact& fact : sentences.facts) {
        block += fact.label.*language + " " + fact.value.*language + "\n";
    }
    block += sentences.effect.*language + "\n";
    if (howToAllow) {
        block += (*howToAllow).*language + "\n";
    }
    return block + sentences.onlyIf.*language;
}

/** The description: the Indonesian block, a blank line, the English block. */
std::string description(const Sentences& sentences, const std::optional<Words>& howToAllow = {}) {
    return descriptionBlock(sentences, &Words::id, howToAllow) + "\n\n" +
           descriptionBlock(sentences, &Words::en, howToAllow);
}

/** Bytes text takes in an Assuan line (%, CR and LF escaped as three). */
std::size_t escapedSize(std::string_view text) {
    std::size_t size = 0;
    for (const char c : text) {
        size += (c == '%' || c == '\n' || c == '\r') ? 3 : 1;
    }
    return size;
}

/** The most a SETDESC argument may take: an Assuan line is at most 1000 bytes. */
constexpr std::size_t maxDescription = 1000 - sizeof("SETDESC ");

/** The sentences built with the usual budgets, or with compact ones when the description would
 *  not fit in one Assuan line. */
template <class Request, class Build>
Sentences fitting(const Request& request, Build build,
                  const std::optional<Words>& howToAllow = {}) {
    Sentences sentences = build(request, Budgets{});
    if (escapedSize(description(sentences, howToAllow)) > maxDescription) {
        sentences = build(request, compactBudgets);
    }
    return sentences;
}

Words retryWords(PinRetry retry) {
    if (retry == PinRetry::FinalTry) {
        return {"PIN salah. Tinggal satu percobaan: jika PIN salah lagi, token terkunci.",
                "Wrong PIN. One try is left: another wrong PIN locks the token."};
    }
    return {"PIN salah. Silakan coba lagi.", "Wrong PIN. Please try again."};
}

const Words pinButtons[] = {{"OK", "OK"}, {"Batal", "Cancel"}};
const Words consentButtons[] = {{"Izinkan", "Allow"}, {"Tolak", "Refuse"}};

Words howToAllow(const ConfirmRequest& request) {
    if (request.signingCode.empty()) {
        return {"Untuk mengizinkan, ketik ya lalu tekan Izinkan.",
                "To allow, type ya (yes) and press Izinkan (Allow)."};
    }
    return {"Untuk mengizinkan, ketik empat karakter terakhir kode itu lalu tekan Izinkan.",
            "To allow, type the code's last four characters and press Izinkan (Allow)."};
}

std::vector<DialogField> dialogFields(const Sentences& sentences) {
    std::vector<DialogField> fields;
    for (const Fact& fact : sentences.facts) {
        fields.push_back({bilingual(fact.label),
                          fact.value.id == fact.value.en ? fact.value.id : bilingual(fact.value)});
    }
    if (sentences.granted) {
        fields.push_back({bilingual({"Permintaan:", "Request:"}), bilingual(*sentences.granted)});
    }
    return fields;
}

DialogText dialogText(const Sentences& sentences, const Words& accept, const Words& refuse) {
    DialogText text;
    text.title = joined(sentences.title, " / ");
    text.intro = bilingual(sentences.who);
    text.fields = dialogFields(sentences);
    text.effect = bilingual(sentences.effect);
    text.question = bilingual(sentences.onlyIf);
    text.accept = accept.id == accept.en ? accept.id : bilingual(accept);
    text.refuse = bilingual(refuse);
    return text;
}

}  // namespace

PinentryText pinentryText(const PinRequest& request) {
    const Sentences sentences = fitting(request, pinSentences);
    PinentryText text{joined(sentences.title, " / "),
                      description(sentences),
                      "PIN:",
                      pinButtons[0].id,
                      pinButtons[1].id,
                      std::nullopt};
    if (request.retry) {
        text.error = bilingual(retryWords(*request.retry));
    }
    return text;
}

PinentryText pinentryText(const ConfirmRequest& request) {
    const Sentences sentences = fitting(request, consentSentences);
    return {joined(sentences.title, " / "), description(sentences), "",
            consentButtons[0].id,           consentButtons[1].id,   std::nullopt};
}

PinentryText typedConsentText(const ConfirmRequest& request) {
    const Words allow = howToAllow(request);
    const Sentences sentences = fitting(request, consentSentences, allow);
    return {joined(sentences.title, " / "), description(sentences, allow), "Kode / Code:",
            consentButtons[0].id,           consentButtons[1].id,          std::nullopt};
}

std::string typedConsentWord(const ConfirmRequest& request) {
    if (request.signingCode.empty()) {
        return "ya";
    }
    const auto lastSpace = request.signingCode.rfind(' ');
    return lastSpace == std::string::npos ? request.signingCode
                                          : request.signingCode.substr(lastSpace + 1);
}

bool typedConsentMatches(const ConfirmRequest& request, std::string_view typed) {
    while (typed.starts_with(' ')) {
        typed.remove_prefix(1);
    }
    while (typed.ends_with(' ')) {
        typed.remove_suffix(1);
    }
    const std::string word = typedConsentWord(request);
    return typed.size() == word.size() &&
           std::equal(typed.begin(), typed.end(), word.begin(), [](char a, char b) {
               return std::tolower(static_cast<unsigned char>(a)) ==
                      std::tolower(static_cast<unsigned char>(b));
           });
}

std::string grantedText(const GrantedBy& granted) {
    return bilingual(grantedWords(granted, Budgets{}));
}

DialogText pinDialogText(const PinRequest& request) {
    DialogText text = dialogText(pinSentences(request, Budgets{}), pinButtons[0], pinButtons[1]);
    if (request.retry) {
        text.warning = bilingual(retryWords(*request.retry));
    }
    return text;
}

DialogText consentDialogText(const ConfirmRequest& request) {
    return dialogText(consentSentences(request, Budgets{}), consentButtons[0], consentButtons[1]);
}

}  // namespace kunci::agent
