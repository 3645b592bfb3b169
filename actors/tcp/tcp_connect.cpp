#include "actors/tcp/tcp_connect.hpp"

namespace iocaf {

caf::expected<caf::actor> spawn_tcp_connect(caf::actor_system& sys, std::shared_ptr<io_core> core,
                                            const std::string& address, std::uint16_t port, caf::actor handler,
                                            tcp_connection_options opts) {
  auto to = io::parse_address(address, port);
  if (!to)
    return make_error(errc::bad_input, "connect: \"" + address + "\" is not a numeric IPv4 or IPv6 address");
  if (!handler)
    return make_error(errc::bad_input, "connect: no handler actor");
  return detail::spawn_tcp_connecting(sys, std::move(core), *to, std::move(handler), opts);
}

} // namespace iocaf
