#include "io/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>

#include <cstdlib>
#include <mutex>

namespace iocaf {

namespace {

std::mutex mtx;
spdlog::sink_ptr shared_sink;
spdlog::level::level_enum current_level = spdlog::level::info;
bool level_from_env_done = false;

bool parse_level(const std::string& name, spdlog::level::level_enum& out) {
  for (int i = spdlog::level::trace; i <= spdlog::level::off; ++i) {
    auto lvl = static_cast<spdlog::level::level_enum>(i);
    auto sv = spdlog::level::to_string_view(lvl);
    if (name == std::string(sv.data(), sv.size())) {
      out = lvl;
      return true;
    }
  }
  if (name == "warn") { out = spdlog::level::warn; return true; }
  return false;
}

void init_locked() {
  if (level_from_env_done)
    return;
  level_from_env_done = true;
  shared_sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  if (const char* env = std::getenv("IOCAF_LOG")) {
    spdlog::level::level_enum lvl;
    if (parse_level(env, lvl))
      current_level = lvl;
    else
      std::fprintf(stderr, "iocaf: IOCAF_LOG=%s is not a log level (trace, debug, info, warn, error, off)\n", env);
  }
}

} // namespace

std::shared_ptr<spdlog::logger> logger(const std::string& component) {
  std::lock_guard<std::mutex> guard{mtx};
  init_locked();
  auto name = "iocaf." + component;
  if (auto existing = spdlog::get(name))
    return existing;
  auto lg = std::make_shared<spdlog::logger>(name, shared_sink);
  lg->set_level(current_level);
  lg->set_pattern("%H:%M:%S.%e %^%l%$ [%n] %v");
  spdlog::register_logger(lg);
  return lg;
}

bool set_log_level(const std::string& level) {
  std::lock_guard<std::mutex> guard{mtx};
  init_locked();
  spdlog::level::level_enum lvl;
  if (!parse_level(level, lvl))
    return false;
  current_level = lvl;
  spdlog::apply_all([&](std::shared_ptr<spdlog::logger> lg) {
    if (lg->name().rfind("iocaf.", 0) == 0)
      lg->set_level(lvl);
  });
  return true;
}

} // namespace iocaf
