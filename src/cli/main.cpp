// canaryd: the command-line entry point. Only this file knows the concrete commands.
#include <iostream>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "canaryd/core/log.h"

#include "cli/validate_command.h"

#ifndef CANARYD_VERSION
#define CANARYD_VERSION "dev"
#endif

int main(int argc, char** argv) {
  CLI::App app{
      "canaryd: progressive delivery and canary analysis for Kubernetes, Flagger-compatible"};
  app.require_subcommand(1);
  std::string logFormat = "text";
  std::string logLevel = "info";
  app.add_option("--log-format", logFormat, "Log format: text or json")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--log-level", logLevel, "trace, debug, info, warn, error, critical or off");

  canaryd::cli::ValidateOptions validate;
  CLI::App* validateCmd =
      app.add_subcommand("validate", "Validate Canary, MetricTemplate and AlertProvider manifests");
  validateCmd->add_option("files", validate.files, "YAML or JSON files; - reads standard input")
      ->required();
  validateCmd->add_option("-o,--output", validate.output, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
  validateCmd->add_flag("--explain", validate.explain,
                        "Also describe what each valid Canary's rollout will do");

  app.add_subcommand("version", "Print canaryd's version");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }

  canaryd::Result<canaryd::LogFormat> format = canaryd::parseLogFormat(logFormat);
  canaryd::Status logging = format ? canaryd::setupLogging({*format, logLevel, nullptr})
                                   : canaryd::Status(format.error());
  if (!logging) {
    std::cerr << "canaryd: " << logging.error().message() << "\n";
    return 2;
  }

  if (validateCmd->parsed()) {
    return canaryd::cli::runValidate(validate, std::cin, std::cout, std::cerr);
  }
  if (app.got_subcommand("version")) {
    std::cout << "canaryd " << CANARYD_VERSION << "\n";
    return 0;
  }
  return 2;
}
