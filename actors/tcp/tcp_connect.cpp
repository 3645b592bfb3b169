#include "actors/tcp/tcp_connect.hpp"

namespace iocaf {

caf::expected<caf::actor> spawn_tcp_connect(caf::actor_system& sys, std::shared_ptr<io_core> core,
                                            tcp_connect_options opts, caf::actor handler) {
  auto to = io::parse_address(opts.address, opts.port);
  if (!to)
    return make_error(errc::bad_input, "connect: \"" + opts.address + "\" is not a numeric IPv4 or IPv6 address");
  if (!handler)
    return make_error(errc::bad_input, "connect: no handler actor");
  return detail::spawn_tcp_connecting(sys, std::move(core), *to, std::move(handler), opts.connection);
}

} // namespace iocaf
