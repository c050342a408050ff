// Objects the kubesim tests create: a DaemonSet, an Ingress, an IngressClass and a CRD with
// several versions, and the registry lookup they all need.
#pragma once

#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "kubesim/resources.h"

namespace canaryd::kubesim::testing {

inline constexpr const char* kScaleToZeroLabel = "flagger.app/scale-to-zero";

inline ResourceType typeOf(const ResourceRegistry& registry, const std::string& group,
                           const std::string& version, const std::string& resource) {
  auto type = registry.find(group, version, resource);
  if (!type) {
    ADD_FAILURE() << "no resource type " << group << "/" << version << " " << resource;
    return {};
  }
  return *type;
}

inline nlohmann::json daemonSet(const std::string& name,
                                nlohmann::json nodeSelector = nlohmann::json()) {
  nlohmann::json ds = {
      {"apiVersion", "apps/v1"},
      {"kind", "DaemonSet"},
      {"metadata", {{"name", name}}},
      {"spec",
       {{"selector", {{"matchLabels", {{"app", name}}}}},
        {"template",
         {{"metadata", {{"labels", {{"app", name}}}}},
          {"spec", {{"containers", {{{"name", "agent"}, {"image", "agent:1"}}}}}}}}}}};
  if (!nodeSelector.is_null()) ds["spec"]["template"]["spec"]["nodeSelector"] = nodeSelector;
  return ds;
}

inline nlohmann::json ingress(const std::string& name) {
  return {{"apiVersion", "networking.k8s.io/v1"},
          {"kind", "Ingress"},
          {"metadata", {{"name", name}}},
          {"spec",
           {{"ingressClassName", "nginx"},
            {"rules",
             {{{"host", "shop.example"},
               {"http",
                {{"paths",
                  {{{"path", "/"},
                    {"pathType", "Prefix"},
                    {"backend",
                     {{"service", {{"name", "shop"}, {"port", {{"number", 80}}}}}}}}}}}}}}}}}};
}

inline nlohmann::json ingressClass(const std::string& name) {
  return {{"apiVersion", "networking.k8s.io/v1"},
          {"kind", "IngressClass"},
          {"metadata", {{"name", name}}},
          {"spec", {{"controller", "k8s.io/ingress-nginx"}}}};
}

// example.com Widgets: v1beta1 served and stored, v1 served, v1alpha1 not served.
inline nlohmann::json widgetCrd() {
  const nlohmann::json schema = {
      {"openAPIV3Schema",
       {{"type", "object"},
        {"properties",
         {{"spec", {{"type", "object"}, {"properties", {{"size", {{"type", "integer"}}}}}}},
          {"status", {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}}}}}}}};
  auto version = [&](const char* name, bool served, bool storage) {
    return nlohmann::json{{"name", name},
                          {"served", served},
                          {"storage", storage},
                          {"schema", schema},
                          {"subresources", {{"status", nlohmann::json::object()}}}};
  };
  return {{"apiVersion", "apiextensions.k8s.io/v1"},
          {"kind", "CustomResourceDefinition"},
          {"metadata", {{"name", "widgets.example.com"}}},
          {"spec",
           {{"group", "example.com"},
            {"scope", "Namespaced"},
            {"names",
             {{"plural", "widgets"},
              {"singular", "widget"},
              {"kind", "Widget"},
              {"listKind", "WidgetList"}}},
            {"versions",
             {version("v1beta1", true, true), version("v1", true, false),
              version("v1alpha1", false, false)}}}}};
}

inline nlohmann::json widget(const std::string& apiVersion, const std::string& name, int size) {
  return {{"apiVersion", apiVersion},
          {"kind", "Widget"},
          {"metadata", {{"name", name}}},
          {"spec", {{"size", size}}}};
}

}  // namespace canaryd::kubesim::testing
