#include "kubesim/server_side_apply.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "kubesim/api_error.h"

namespace canaryd::kubesim {
namespace {

using nlohmann::json;

// A field's path in FieldsV1 notation: "f:<field>", "k:<key fields as JSON>" (an item of a
// list keyed by fields), "v:<value as JSON>" (an item of a set), "i:<index>" (an item of a
// keyed list that lacks its keys) and "." (the list item itself).
using Path = std::vector<std::string>;
using FieldSet = std::set<Path>;

struct ListType {
  enum Kind { kAtomic, kSet, kMap } kind = kAtomic;
  std::vector<std::string> keys;
};

// Where a value sits: its kind's schema node (custom resources), whether it is under
// metadata (whose lists are the same for every kind), and the name of its field.
struct Context {
  const ResourceType* type = nullptr;
  const json* schema = nullptr;
  bool metadata = false;
  std::string field;
  bool root = false;

  Context child(const std::string& key) const {
    Context c{type, nullptr, metadata || (root && key == "metadata"), key, false};
    if (schema != nullptr && schema->is_object()) {
      const auto properties = schema->find("properties");
      const auto additional = schema->find("additionalProperties");
      if (properties != schema->end() && properties->is_object() && properties->contains(key)) {
        c.schema = &(*properties)[key];
      } else if (additional != schema->end() && additional->is_object()) {
        c.schema = &*additional;
      }
    }
    return c;
  }
  Context item() const {
    Context c{type, nullptr, metadata, "", false};
    if (schema != nullptr && schema->is_object()) {
      const auto items = schema->find("items");
      if (items != schema->end() && items->is_object()) c.schema = &*items;
    }
    return c;
  }
};

// The built-in kinds' keyed lists (their patchMergeKey and listMapKeys), and metadata's.
ListType builtinListType(const std::string& field, const json& items) {
  static const std::map<std::string, std::vector<std::string>> kKeys = {
      {"containers", {"name"}},
      {"initContainers", {"name"}},
      {"ephemeralContainers", {"name"}},
      {"volumes", {"name"}},
      {"env", {"name"}},
      {"volumeMounts", {"mountPath"}},
      {"volumeDevices", {"devicePath"}},
      {"imagePullSecrets", {"name"}},
      {"hostAliases", {"ip"}},
      {"conditions", {"type"}},
      {"ownerReferences", {"uid"}},
      {"topologySpreadConstraints", {"topologyKey", "whenUnsatisfiable"}},
      {"resourceClaims", {"name"}},
      {"schedulingGates", {"name"}},
  };
  if (field == "finalizers") return {ListType::kSet, {}};
  if (field == "ports") {
    for (const json& item : items) {
      if (item.is_object() && item.contains("containerPort")) {
        return {ListType::kMap, {"containerPort", "protocol"}};
      }
    }
    return {ListType::kMap, {"port", "protocol"}};
  }
  auto it = kKeys.find(field);
  if (it == kKeys.end()) return {};
  return {ListType::kMap, it->second};
}

ListType listTypeOf(const Context& ctx, const json& items) {
  if (ctx.metadata || ctx.type == nullptr || !ctx.type->fromCrd) {
    return builtinListType(ctx.field, items);
  }
  if (ctx.schema == nullptr || !ctx.schema->is_object()) return {};
  const std::string kind = ctx.schema->value("x-kubernetes-list-type", "atomic");
  if (kind == "set") return {ListType::kSet, {}};
  if (kind != "map") return {};
  ListType t{ListType::kMap, {}};
  const auto keys = ctx.schema->find("x-kubernetes-list-map-keys");
  if (keys != ctx.schema->end() && keys->is_array()) {
    for (const json& k : *keys) {
      if (k.is_string()) t.keys.push_back(k.get<std::string>());
    }
  }
  return t;
}

// The element naming `item` of a keyed list: its key fields (those present), sorted by name
// as the API server writes them, or its index when it has none.
std::string keyElement(const json& item, const ListType& t, std::size_t index) {
  json key = json::object();
  if (item.is_object()) {
    for (const std::string& k : t.keys) {
      if (item.contains(k)) key[k] = item[k];
    }
  }
  if (key.empty()) return "i:" + std::to_string(index);
  return "k:" + key.dump();
}

// Every field `value` sets, as leaves (scalars, atomic lists, empty objects, set items) and
// "." for each item of a keyed list.
void collect(const json& value, const Context& ctx, Path& prefix, FieldSet& out) {
  if (value.is_object() && !value.empty()) {
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (it.value().is_null()) continue;
      Context c = ctx.child(it.key());
      prefix.push_back("f:" + it.key());
      collect(it.value(), c, prefix, out);
      prefix.pop_back();
    }
    return;
  }
  if (value.is_array() && !value.empty()) {
    const ListType t = listTypeOf(ctx, value);
    if (t.kind == ListType::kSet) {
      for (const json& item : value) {
        prefix.push_back("v:" + item.dump());
        out.insert(prefix);
        prefix.pop_back();
      }
      return;
    }
    if (t.kind == ListType::kMap) {
      const Context itemCtx = ctx.item();
      for (std::size_t i = 0; i < value.size(); ++i) {
        prefix.push_back(keyElement(value[i], t, i));
        prefix.push_back(".");
        out.insert(prefix);
        prefix.pop_back();
        if (value[i].is_object()) {
          for (auto it = value[i].begin(); it != value[i].end(); ++it) {
            if (it.value().is_null()) continue;
            prefix.push_back("f:" + it.key());
            collect(it.value(), itemCtx.child(it.key()), prefix, out);
            prefix.pop_back();
          }
        }
        prefix.pop_back();
      }
      return;
    }
  }
  out.insert(prefix);
}

// The part of an object a write owns fields in: without what the server maintains, and
// without status on the main resource of kinds with a status subresource (or only status, for
// a status write).
json ownedPart(const ResourceType& type, const json& object, bool status) {
  if (!object.is_object()) return json::object();
  if (status) {
    json part = json::object();
    if (object.contains("status")) part["status"] = object["status"];
    return part;
  }
  json part = object;
  part.erase("apiVersion");
  part.erase("kind");
  if (type.statusSubresource) part.erase("status");
  if (part.contains("metadata") && part["metadata"].is_object()) {
    json& m = part["metadata"];
    for (const char* server :
         {"name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
          "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields", "selfLink"}) {
      m.erase(server);
    }
    if (m.empty()) part.erase("metadata");
  }
  return part;
}

FieldSet fieldsOf(const ResourceType& type, const json& object, bool status) {
  FieldSet out;
  Path prefix;
  const Context ctx{&type, type.fromCrd && type.schema.is_object() ? &type.schema : nullptr, false,
                    "", true};
  const json part = ownedPart(type, object, status);
  if (!part.empty()) collect(part, ctx, prefix, out);
  return out;
}

// Whether `p` is a path a write of this kind (status or not) owns fields in.
bool inDomain(const ResourceType& type, const Path& p, bool status) {
  const bool isStatus = !p.empty() && p[0] == "f:status";
  if (status) return isStatus;
  return !type.statusSubresource || !isStatus;
}

// The item of `list` an element names, or end().
json::const_iterator findItem(const json& list, const std::string& element) {
  if (!list.is_array()) return list.end();
  const std::string body = element.substr(2);
  if (element.starts_with("i:")) {
    std::size_t i = 0;
    try {
      i = std::stoul(body);
    } catch (const std::exception&) {
      return list.end();
    }
    return i < list.size() ? list.begin() + static_cast<std::ptrdiff_t>(i) : list.end();
  }
  const json wanted = json::parse(body, nullptr, false);
  if (wanted.is_discarded()) return list.end();
  return std::find_if(list.begin(), list.end(), [&](const json& item) {
    if (element.starts_with("v:")) return item == wanted;
    if (!item.is_object() || !wanted.is_object()) return false;
    for (auto it = wanted.begin(); it != wanted.end(); ++it) {
      if (!item.contains(it.key()) || item[it.key()] != it.value()) return false;
    }
    return true;
  });
}

// The value at `p` in `object`, or nullptr.
const json* valueAt(const json& object, const Path& p) {
  const json* node = &object;
  for (const std::string& e : p) {
    if (e == ".") break;
    if (e.starts_with("f:")) {
      if (!node->is_object()) return nullptr;
      const auto it = node->find(e.substr(2));
      if (it == node->end() || it->is_null()) return nullptr;
      node = &*it;
    } else {
      const auto it = findItem(*node, e);
      if (it == node->end()) return nullptr;
      node = &*it;
    }
  }
  return node;
}

// Removes the field at `p` from `object` (the whole item, for a "." path).
void removeAt(json& object, const Path& p) {
  if (p.empty()) return;
  const bool item = p.back() == ".";
  const std::size_t last = item ? p.size() - 2 : p.size() - 1;
  if (item && p.size() < 2) return;
  json* node = &object;
  for (std::size_t i = 0; i < last; ++i) {
    const std::string& e = p[i];
    if (e.starts_with("f:")) {
      if (!node->is_object() || !node->contains(e.substr(2))) return;
      node = &(*node)[e.substr(2)];
    } else {
      const auto it = findItem(*node, e);
      if (it == node->cend()) return;
      node = &(*node)[static_cast<std::size_t>(it - node->cbegin())];
    }
  }
  const std::string& e = p[last];
  if (e.starts_with("f:")) {
    if (node->is_object()) node->erase(e.substr(2));
  } else if (node->is_array()) {
    const auto it = findItem(*node, e);
    if (it != node->cend()) node->erase(static_cast<std::size_t>(it - node->cbegin()));
  }
}

// `applied` merged into `live`: objects field by field, keyed lists item by item, sets as a
// union, anything else replaced. A null in `applied` removes the field.
json mergeApplied(const json& live, const json& applied, const Context& ctx) {
  if (applied.is_object() && live.is_object()) {
    json result = live;
    for (auto it = applied.begin(); it != applied.end(); ++it) {
      if (it.value().is_null()) {
        result.erase(it.key());
        continue;
      }
      const Context c = ctx.child(it.key());
      const auto existing = live.find(it.key());
      result[it.key()] = existing == live.end() ? mergeApplied(json(), it.value(), c)
                                                : mergeApplied(*existing, it.value(), c);
    }
    return result;
  }
  if (applied.is_array() && live.is_array()) {
    const ListType t = listTypeOf(ctx, applied);
    if (t.kind == ListType::kSet) {
      json result = live;
      for (const json& item : applied) {
        if (std::find(result.begin(), result.end(), item) == result.end()) result.push_back(item);
      }
      return result;
    }
    if (t.kind == ListType::kMap) {
      json result = live;
      const Context itemCtx = ctx.item();
      for (std::size_t i = 0; i < applied.size(); ++i) {
        const std::string element = keyElement(applied[i], t, i);
        const auto match = element.starts_with("k:") ? findItem(result, element) : result.cend();
        if (match == result.cend()) {
          result.push_back(applied[i]);
        } else {
          const auto at = static_cast<std::size_t>(match - result.cbegin());
          result[at] = mergeApplied(result[at], applied[i], itemCtx);
        }
      }
      return result;
    }
  }
  return applied;
}

struct Entry {
  std::string manager;
  std::string operation;
  std::string subresource;
  std::string apiVersion;
  std::string time;
  FieldSet fields;
  bool touched = false;
};

void toTree(const Path& p, json& tree) {
  json* node = &tree;
  for (const std::string& e : p) {
    if (!node->is_object()) *node = json::object();
    node = &(*node)[e];
  }
  if (node->is_null()) *node = json::object();
}

void fromTree(const json& tree, Path& prefix, FieldSet& out) {
  if (!tree.is_object()) return;
  if (tree.empty()) {
    if (!prefix.empty()) out.insert(prefix);
    return;
  }
  for (auto it = tree.begin(); it != tree.end(); ++it) {
    prefix.push_back(it.key());
    if (it.key() == ".") {
      out.insert(prefix);
    } else {
      fromTree(it.value(), prefix, out);
    }
    prefix.pop_back();
  }
}

std::vector<Entry> readEntries(const json* object) {
  std::vector<Entry> entries;
  if (object == nullptr || !object->is_object()) return entries;
  const auto meta = object->find("metadata");
  if (meta == object->end() || !meta->is_object()) return entries;
  const auto managed = meta->find("managedFields");
  if (managed == meta->end() || !managed->is_array()) return entries;
  for (const json& m : *managed) {
    if (!m.is_object()) continue;
    Entry e{m.value("manager", ""),
            m.value("operation", ""),
            m.value("subresource", ""),
            m.value("apiVersion", ""),
            m.value("time", ""),
            {},
            false};
    Path prefix;
    if (const auto f = m.find("fieldsV1"); f != m.end()) fromTree(*f, prefix, e.fields);
    entries.push_back(std::move(e));
  }
  return entries;
}

void writeEntries(json& object, const std::vector<Entry>& entries) {
  json managed = json::array();
  for (const Entry& e : entries) {
    if (e.fields.empty()) continue;
    json tree = json::object();
    for (const Path& p : e.fields)
      toTree(p, tree);
    json m = {{"manager", e.manager}, {"operation", e.operation}, {"apiVersion", e.apiVersion},
              {"time", e.time},       {"fieldsType", "FieldsV1"}, {"fieldsV1", tree}};
    if (!e.subresource.empty()) m["subresource"] = e.subresource;
    managed.push_back(std::move(m));
  }
  if (!object["metadata"].is_object()) object["metadata"] = json::object();
  if (managed.empty()) {
    object["metadata"].erase("managedFields");
  } else {
    object["metadata"]["managedFields"] = std::move(managed);
  }
}

Entry& entryFor(std::vector<Entry>& entries, const std::string& manager,
                const std::string& operation, const std::string& subresource) {
  for (Entry& e : entries) {
    if (e.manager == manager && e.operation == operation && e.subresource == subresource) return e;
  }
  entries.push_back({manager, operation, subresource, "", "", {}, true});
  return entries.back();
}

// ".spec.template.spec.containers[name=\"app\"].image", as the API server names a field in
// a conflict.
std::string fieldName(const Path& p) {
  std::string out;
  for (const std::string& e : p) {
    if (e == ".") continue;
    if (e.starts_with("f:")) {
      out += "." + e.substr(2);
    } else if (e.starts_with("k:")) {
      const json key = json::parse(e.substr(2), nullptr, false);
      std::string inner;
      if (key.is_object()) {
        for (auto it = key.begin(); it != key.end(); ++it) {
          inner += (inner.empty() ? "" : ",") + it.key() + "=" + it.value().dump();
        }
      }
      out += "[" + inner + "]";
    } else if (e.starts_with("v:")) {
      out += "[=" + e.substr(2) + "]";
    } else {
      out += "[" + e.substr(2) + "]";
    }
  }
  return out;
}

// Keeps in every entry of this write's domain only the fields `object` has.
void pruneToExisting(const ResourceType& type, std::vector<Entry>& entries, const FieldSet& all,
                     bool status) {
  for (Entry& e : entries) {
    for (auto it = e.fields.begin(); it != e.fields.end();) {
      if (inDomain(type, *it, status) && !all.contains(*it)) {
        it = e.fields.erase(it);
        e.touched = true;
      } else {
        ++it;
      }
    }
  }
}

// Ends a write: entries keep only fields `object` has (`all`), the ones it changed get its
// time and version, and `object` gets them as its managedFields.
void finish(const ResourceType& type, std::vector<Entry>& entries, const FieldSet& all,
            const FieldManagerWrite& write, json& object) {
  pruneToExisting(type, entries, all, write.status);
  for (Entry& e : entries) {
    if (!e.touched) continue;
    e.time = write.time;
    e.apiVersion = type.groupVersion();
  }
  writeEntries(object, entries);
}

}  // namespace

std::string managerFromUserAgent(const std::string& userAgent) {
  const std::string product = userAgent.substr(0, userAgent.find('/'));
  return product.empty() ? "unknown" : product.substr(0, 128);
}

json recordUpdate(const ResourceType& type, const json* previous, json next,
                  const FieldManagerWrite& write) {
  std::vector<Entry> entries = readEntries(previous);
  const FieldSet after = fieldsOf(type, next, write.status);
  FieldSet changed;
  for (const Path& p : after) {
    const json* old = previous != nullptr ? valueAt(*previous, p) : nullptr;
    if (old == nullptr || (p.back() != "." && *old != *valueAt(next, p))) changed.insert(p);
  }
  if (!changed.empty()) {
    for (Entry& e : entries) {
      for (const Path& p : changed) {
        if (e.fields.erase(p) > 0) e.touched = true;
      }
    }
    Entry& mine = entryFor(entries, write.manager, "Update", write.status ? "status" : "");
    mine.fields.insert(changed.begin(), changed.end());
    mine.touched = true;
  }
  finish(type, entries, after, write, next);
  return next;
}

json serverSideApply(const ResourceType& type, const json* live, const json& applied,
                     const std::string& name, const FieldManagerWrite& write, bool force) {
  if (!applied.is_object()) throw badRequest("the applied configuration must be an object");
  if (applied.value("apiVersion", "") != type.groupVersion()) {
    throw badRequest("the applied configuration's apiVersion must be " + type.groupVersion() +
                     ", got " + applied.value("apiVersion", json("")).dump());
  }
  if (applied.value("kind", "") != type.kind) {
    throw badRequest("the applied configuration's kind must be " + type.kind + ", got " +
                     applied.value("kind", json("")).dump());
  }
  const json meta = applied.value("metadata", json::object());
  if (!meta.is_object() || meta.value("name", "") != name) {
    throw badRequest("the applied configuration's metadata.name must be \"" + name + "\"");
  }
  if (live != nullptr && !meta.value("resourceVersion", "").empty() &&
      meta.value("resourceVersion", "") != (*live)["metadata"].value("resourceVersion", "")) {
    throw ApiError{409, "Conflict",
                   "Operation cannot be fulfilled on " + type.resource + " \"" + name +
                       "\": the object has been modified; please apply your changes to the "
                       "latest version and try again"};
  }
  const std::string subresource = write.status ? "status" : "";
  const json empty = json::object();
  const json& current = live != nullptr ? *live : empty;
  std::vector<Entry> entries = readEntries(live);
  const FieldSet applying = fieldsOf(type, applied, write.status);

  // Conflicts: a field this configuration sets to another value than it has, owned by another
  // manager (shared ownership of equal values is fine).
  std::map<std::string, std::vector<std::string>> conflicts;  // manager -> fields
  FieldSet changing;
  for (const Path& p : applying) {
    if (p.back() == ".") continue;
    const json* was = valueAt(current, p);
    if (was == nullptr || *was == *valueAt(applied, p)) continue;
    changing.insert(p);
    for (const Entry& e : entries) {
      if (e.manager == write.manager && e.operation == "Apply" && e.subresource == subresource)
        continue;
      if (e.fields.contains(p)) {
        conflicts["conflict with \"" + e.manager + "\" using " +
                  (e.apiVersion.empty() ? type.groupVersion() : e.apiVersion)]
            .push_back(fieldName(p));
      }
    }
  }
  if (!conflicts.empty() && !force) {
    std::size_t count = 0;
    std::string message;
    json causes = json::array();
    for (const auto& [who, fields] : conflicts) {
      count += fields.size();
      for (const std::string& f : fields) {
        message += (message.empty() ? "" : "\n") + std::string("- ") + who + ": " + f;
        causes.push_back({{"reason", "FieldManagerConflict"}, {"message", who}, {"field", f}});
      }
    }
    std::string summary =
        "Apply failed with " + std::to_string(count) + " conflict" + (count == 1 ? "" : "s") + ": ";
    if (count == 1) {
      summary += conflicts.begin()->first + ": " + conflicts.begin()->second.front();
    } else {
      summary += "\n" + message;
    }
    throw ApiError{
        409, "Conflict", summary, {{"name", name}, {"kind", type.resource}, {"causes", causes}}};
  }

  const Context ctx{&type, type.fromCrd && type.schema.is_object() ? &type.schema : nullptr, false,
                    "", true};
  json config = applied;
  config.erase("apiVersion");
  config.erase("kind");
  if (config.contains("metadata")) {
    for (const char* server : {"resourceVersion", "managedFields", "uid", "creationTimestamp",
                               "generation", "deletionTimestamp"}) {
      config["metadata"].erase(server);
    }
  }
  if (write.status) {
    json onlyStatus = json::object();
    if (config.contains("status")) onlyStatus["status"] = config["status"];
    config = onlyStatus;
  } else if (type.statusSubresource) {
    config.erase("status");
  }
  json result = mergeApplied(current, config, ctx);
  result["apiVersion"] = type.groupVersion();
  result["kind"] = type.kind;
  if (!result["metadata"].is_object()) result["metadata"] = json::object();
  result["metadata"]["name"] = name;

  // What this manager applied before and no longer does goes, unless another manager owns it
  // (or, for a list item, anything in it).
  Entry& mine = entryFor(entries, write.manager, "Apply", subresource);
  FieldSet othersOwn;
  for (const Entry& e : entries) {
    if (&e == &mine) continue;
    othersOwn.insert(e.fields.begin(), e.fields.end());
  }
  std::vector<Path> dropped;
  for (const Path& p : mine.fields) {
    if (applying.contains(p) || othersOwn.contains(p) || !inDomain(type, p, write.status)) {
      continue;
    }
    if (p.back() == ".") {
      const Path item(p.begin(), p.end() - 1);
      const bool ownedInside = std::any_of(othersOwn.begin(), othersOwn.end(), [&](const Path& o) {
        return o.size() > item.size() && std::equal(item.begin(), item.end(), o.begin());
      });
      if (ownedInside) continue;
    }
    dropped.push_back(p);
  }
  // Deepest first, so that removing an item does not hide its fields' paths.
  std::sort(dropped.begin(), dropped.end(),
            [](const Path& a, const Path& b) { return a.size() > b.size(); });
  for (const Path& p : dropped)
    removeAt(result, p);

  // Ownership: the fields this configuration changed leave their previous owners (a forced
  // apply, or fields nobody owned); this manager owns exactly what it applied.
  for (Entry& e : entries) {
    if (&e == &mine) continue;
    for (const Path& p : changing) {
      if (e.fields.erase(p) > 0) e.touched = true;
    }
  }
  mine.fields = applying;
  mine.touched = true;
  finish(type, entries, fieldsOf(type, result, write.status), write, result);
  return result;
}

}  // namespace canaryd::kubesim
