#include "canaryd/api/codec.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "canaryd/core/text.h"

#include "api/fields.h"
#include "api/path.h"

namespace canaryd::api {
namespace {

using nlohmann::json;

template <typename T>
struct IsOptional : std::false_type {};
template <typename T>
struct IsOptional<std::optional<T>> : std::true_type {};
template <typename T>
struct IsVector : std::false_type {};
template <typename T>
struct IsVector<std::vector<T>> : std::true_type {};
template <typename T>
struct IsMap : std::false_type {};
template <typename T>
struct IsMap<std::map<std::string, T>> : std::true_type {};

std::string describe(const json& j) {
  switch (j.type()) {
    case json::value_t::string:
      return "string " + quote(j.get<std::string>());
    case json::value_t::boolean:
      return j.get<bool>() ? "boolean true" : "boolean false";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return "number " + j.dump();
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "a list";
    case json::value_t::null:
      return "null";
    default:
      return "a value of another type";
  }
}

// Collects the names a struct's fields() visits.
struct NameCollector {
  std::vector<std::string_view> names;
  bool keepsRest = false;
  template <typename M>
  void operator()(std::string_view name, M&) {
    names.push_back(name);
  }
  void rest(JsonValue&) { keepsRest = true; }
};

class Decoder {
 public:
  explicit Decoder(std::vector<Problem>& problems) : problems_(problems) {}

  void error(const std::string& where, std::string message) {
    problems_.push_back({Severity::kError, where, std::move(message), 0, 0});
  }

  // Reads `j` (never null) into `out`; returns false, with a problem recorded, on a type error.
  bool read(const json& j, const std::string& where, std::string& out) {
    if (!j.is_string()) return typeError(where, "a string", j);
    out = j.get<std::string>();
    return true;
  }
  bool read(const json& j, const std::string& where, bool& out) {
    if (!j.is_boolean()) return typeError(where, "a boolean (true or false)", j);
    out = j.get<bool>();
    return true;
  }
  bool read(const json& j, const std::string& where, std::int64_t& out) {
    if (j.is_number_integer() && !j.is_number_unsigned()) {
      out = j.get<std::int64_t>();
      return true;
    }
    if (j.is_number_unsigned() && j.get<std::uint64_t>() <= INT64_MAX) {
      out = static_cast<std::int64_t>(j.get<std::uint64_t>());
      return true;
    }
    if (j.is_number_float()) {
      double d = j.get<double>();
      // The CRDs declare many integers as "number"; 5.0 is accepted as 5, 5.5 is not.
      if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9.0e15) {
        out = static_cast<std::int64_t>(d);
        return true;
      }
    }
    return typeError(where, "a whole number", j);
  }
  bool read(const json& j, const std::string& where, double& out) {
    if (!j.is_number()) return typeError(where, "a number", j);
    out = j.get<double>();
    return true;
  }
  bool read(const json& j, const std::string& where, IntOrString& out) {
    if (j.is_string()) {
      out.value = j.get<std::string>();
      return true;
    }
    std::int64_t n = 0;
    if (j.is_number() && read(j, where, n)) {
      out.value = n;
      return true;
    }
    if (j.is_number()) return false;
    return typeError(where, "a port number or a port name", j);
  }
  bool read(const json& j, const std::string&, JsonValue& out) {
    out = JsonValue(j);
    return true;
  }

  template <typename T>
  bool read(const json& j, const std::string& where, std::optional<T>& out) {
    T value{};
    if (!read(j, where, value)) return false;
    out = std::move(value);
    return true;
  }

  // Containers and structs keep what could be read: an element or field with a type error
  // is left out (and reported), the rest stays, so validation still sees it.
  template <typename T>
  bool read(const json& j, const std::string& where, std::vector<T>& out) {
    if (!j.is_array()) return typeError(where, "a list", j);
    std::size_t index = 0;
    for (const json& item : j) {
      std::string at = path::element(where, index++);
      T value{};
      if (item.is_null()) {
        typeError(at, "a value", item);
      } else if (read(item, at, value)) {
        out.push_back(std::move(value));
      }
    }
    return true;
  }

  template <typename T>
  bool read(const json& j, const std::string& where, std::map<std::string, T>& out) {
    if (!j.is_object()) return typeError(where, "a map of names to values", j);
    for (auto it = j.begin(); it != j.end(); ++it) {
      T value{};
      if (!it->is_null() && read(*it, path::child(where, it.key()), value)) {
        out.emplace(it.key(), std::move(value));
      }
    }
    return true;
  }

  // Structs: every type with a fields() overload.
  template <typename T>
  requires requires(NameCollector& c, T& t) { fields(c, t); }
  bool read(const json& j, const std::string& where, T& out) {
    if (!j.is_object()) return typeError(where, "an object", j);
    NameCollector known;
    fields(known, out);
    FieldReader reader{*this, j, where, nullptr};
    fields(reader, out);
    json rest = json::object();
    for (auto it = j.begin(); it != j.end(); ++it) {
      bool isKnown = false;
      for (std::string_view name : known.names)
        isKnown = isKnown || name == it.key();
      if (isKnown) continue;
      if (known.keepsRest) {
        rest[it.key()] = *it;
        continue;
      }
      std::string message = "unknown field " + quote(it.key());
      if (auto hint = closestMatch(it.key(), known.names)) {
        message += "; did you mean " + quote(*hint) + "?";
      } else {
        message += "; known fields: " + join(known.names, ", ");
      }
      error(path::child(where, it.key()), std::move(message));
    }
    if (reader.restTarget != nullptr && !rest.empty())
      *reader.restTarget = JsonValue(std::move(rest));
    return true;
  }

 private:
  struct FieldReader {
    Decoder& decoder;
    const json& object;
    const std::string& where;
    JsonValue* restTarget;
    template <typename M>
    void operator()(std::string_view name, M& member) {
      auto it = object.find(name);
      if (it == object.end() || it->is_null()) return;  // null means absent, as in Kubernetes
      decoder.read(*it, path::child(where, name), member);
    }
    void rest(JsonValue& member) { restTarget = &member; }
  };

  bool typeError(const std::string& where, std::string_view expected, const json& got) {
    error(where, "must be " + std::string(expected) + ", got " + describe(got));
    return false;
  }

  std::vector<Problem>& problems_;
};

class Encoder {
 public:
  static json write(const std::string& v) { return v; }
  static json write(bool v) { return v; }
  static json write(std::int64_t v) { return v; }
  static json write(double v) { return v; }
  static json write(const IntOrString& v) {
    return v.isInt() ? json(std::get<std::int64_t>(v.value)) : json(std::get<std::string>(v.value));
  }
  static json write(const JsonValue& v) { return v.get(); }
  template <typename T>
  static json write(const std::vector<T>& items) {
    json out = json::array();
    for (const T& item : items)
      out.push_back(write(item));
    return out;
  }
  template <typename T>
  static json write(const std::map<std::string, T>& items) {
    json out = json::object();
    for (const auto& [key, value] : items)
      out[key] = write(value);
    return out;
  }
  template <typename T>
  requires requires(NameCollector& c, T& t) { fields(c, t); }
  static json write(const T& value) {
    json out = json::object();
    FieldWriter writer{out};
    // fields() takes a mutable reference so that one list serves decoding too; the writer
    // only reads.
    fields(writer, const_cast<T&>(value));
    return out;
  }

 private:
  struct FieldWriter {
    json& out;
    template <typename M>
    void operator()(std::string_view name, const M& member) {
      if constexpr (IsOptional<M>::value) {
        if (member) out[std::string(name)] = write(*member);
      } else if constexpr (IsVector<M>::value || IsMap<M>::value) {
        if (!member.empty()) out[std::string(name)] = write(member);
      } else if constexpr (std::is_same_v<M, JsonValue>) {
        if (member.present()) out[std::string(name)] = member.get();
      } else {
        out[std::string(name)] = write(member);
      }
    }
    void rest(const JsonValue& member) {
      if (!member.get().is_object()) return;
      for (auto it = member.get().begin(); it != member.get().end(); ++it)
        out[it.key()] = *it;
    }
  };
};

template <typename T>
Decoded<T> decodeJson(const json& body, const Document* document) {
  Decoded<T> decoded;
  Decoder decoder(decoded.problems);
  if (body.is_object()) {
    decoder.read(body, "", decoded.value);
  } else {
    decoder.error("", "a manifest must be an object, got " + describe(body));
  }
  if (document != nullptr) {
    for (Problem& p : decoded.problems) {
      SourcePosition at = locate(*document, p.path);
      p.line = at.line;
      p.column = at.column;
    }
    // In the order of the source, not of JSON's sorted keys.
    std::stable_sort(decoded.problems.begin(), decoded.problems.end(),
                     [](const Problem& a, const Problem& b) {
                       return std::pair(a.line, a.column) < std::pair(b.line, b.column);
                     });
  }
  return decoded;
}

template <typename T>
Result<T> fromJsonBody(const json& body, std::string_view what) {
  Decoded<T> decoded = decodeJson<T>(body, nullptr);
  for (const Problem& p : decoded.problems) {
    if (p.severity == Severity::kError) {
      return Error::invalidInput(std::string(what) + ": " + p.path + ": " + p.message);
    }
  }
  return std::move(decoded.value);
}

template <typename T>
Result<T> fromJsonText(std::string_view text, std::string_view what) {
  json body;
  try {
    body = json::parse(text);
  } catch (const json::exception& e) {
    return Error::invalidInput(std::string(what) + ": malformed JSON: " + e.what());
  }
  return fromJsonBody<T>(body, what);
}

}  // namespace

bool hasErrors(const std::vector<Problem>& problems) {
  for (const Problem& p : problems) {
    if (p.severity == Severity::kError) return true;
  }
  return false;
}

Decoded<Canary> decodeCanary(const Document& document) {
  return decodeJson<Canary>(document.body.get(), &document);
}
Decoded<MetricTemplate> decodeMetricTemplate(const Document& document) {
  return decodeJson<MetricTemplate>(document.body.get(), &document);
}
Decoded<AlertProvider> decodeAlertProvider(const Document& document) {
  return decodeJson<AlertProvider>(document.body.get(), &document);
}

Result<Canary> canaryFromJson(std::string_view text) {
  return fromJsonText<Canary>(text, "Canary");
}
Result<MetricTemplate> metricTemplateFromJson(std::string_view text) {
  return fromJsonText<MetricTemplate>(text, "MetricTemplate");
}
Result<AlertProvider> alertProviderFromJson(std::string_view text) {
  return fromJsonText<AlertProvider>(text, "AlertProvider");
}
Result<Canary> canaryFromJson(const JsonValue& value) {
  return fromJsonBody<Canary>(value.get(), "Canary");
}
Result<MetricTemplate> metricTemplateFromJson(const JsonValue& value) {
  return fromJsonBody<MetricTemplate>(value.get(), "MetricTemplate");
}
Result<AlertProvider> alertProviderFromJson(const JsonValue& value) {
  return fromJsonBody<AlertProvider>(value.get(), "AlertProvider");
}

JsonValue toJsonValue(const Canary& canary) {
  return JsonValue(Encoder::write(canary));
}
JsonValue toJsonValue(const MetricTemplate& t) {
  return JsonValue(Encoder::write(t));
}
JsonValue toJsonValue(const AlertProvider& p) {
  return JsonValue(Encoder::write(p));
}

}  // namespace canaryd::api
