#include "actors/core/messages.hpp"

namespace iocaf {

namespace {
constexpr caf::atom_value category = caf::atom("iocaf");
} // namespace

const char* to_string(errc x) {
  switch (x) {
    case errc::win32: return "win32";
    case errc::closing: return "closing";
    case errc::bad_input: return "bad_input";
    case errc::timeout: return "timeout";
    case errc::queue_full: return "queue_full";
    case errc::not_found: return "not_found";
    case errc::in_use: return "in_use";
    case errc::shutdown: return "shutdown";
  }
  return "unknown";
}

caf::error make_error(errc code, std::string context) {
  return caf::error{static_cast<std::uint8_t>(code), category, caf::make_message(std::move(context))};
}

caf::error make_error(const io::error& e) {
  return make_error(errc::win32, e.to_string());
}

bool is(const caf::error& e, errc code) {
  return e.category() == category && e.code() == static_cast<std::uint8_t>(code);
}

std::string describe(const caf::error& e) {
  if (!e)
    return "no error";
  if (e.category() == category) {
    std::string out = to_string(static_cast<errc>(e.code()));
    if (e.context().match_elements<std::string>())
      out += ": " + e.context().get_as<std::string>(0);
    return out;
  }
  return caf::to_string(e);
}

void configure(caf::actor_system_config& cfg) {
  cfg.add_error_category(category, [](std::uint8_t code, caf::atom_value, const caf::message& ctx) {
    std::string out = std::string("iocaf: ") + to_string(static_cast<errc>(code));
    if (ctx.match_elements<std::string>())
      out += ": " + ctx.get_as<std::string>(0);
    return out;
  });
}

} // namespace iocaf
