#include "kubesim/nodes.h"

#include <gtest/gtest.h>

namespace canaryd::kubesim {
namespace {

using nlohmann::json;

TEST(KubesimNodes, EachNodeCarriesItsOsAndHostnameLabelsOnly) {
  EXPECT_EQ(simulatedNodeName(0), "kubesim-node-0");
  EXPECT_EQ(simulatedNodeLabels(1),
            json({{"kubernetes.io/os", "linux"}, {"kubernetes.io/hostname", "kubesim-node-1"}}));
}

TEST(KubesimNodes, ANodeSelectorPicksTheNodesWithAllItsLabels) {
  EXPECT_EQ(nodesFitting(json::object(), 3), 3);
  EXPECT_EQ(nodesFitting({{"nodeSelector", json::object()}}, 3), 3);
  EXPECT_EQ(nodesFitting({{"nodeSelector", {{"kubernetes.io/os", "linux"}}}}, 3), 3);
  EXPECT_EQ(nodesFitting(
                {{"nodeSelector",
                  {{"kubernetes.io/os", "linux"}, {"kubernetes.io/hostname", "kubesim-node-0"}}}},
                3),
            1);
  EXPECT_EQ(nodesFitting({{"nodeSelector", {{"flagger.app/scale-to-zero", "true"}}}}, 3), 0);
  EXPECT_EQ(nodesFitting({{"nodeSelector", {{"kubernetes.io/os", 1}}}}, 3), 0);
  EXPECT_EQ(nodesFitting({{"nodeSelector", "linux"}}, 3), 0);
  EXPECT_EQ(nodesFitting(json::object(), 0), 0);
}

}  // namespace
}  // namespace canaryd::kubesim
