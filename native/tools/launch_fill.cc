// lxzone-launch-fill: the front end's description reader and slot filling
// (native/front/), run on a description file, so a test can hold the filled
// config to encodeShimConfig's bytes (test/04.cli.front-fill.test.ts).
//
//   lxzone-launch-fill DESCRIPTION_FILE ID_BASE TTY(0|1) -- ARGV...
//
// TERM comes from this program's environment; ID_BASE is used only when the
// config has an id-base slot. Exit 0 with the filled config on stdout, or 1
// with "error: MESSAGE" on stderr.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

#include "../front/description.h"
#include "../front/fill.h"
#include "../front/records.h"

namespace {

int fail(const std::string& why) {
  std::fprintf(stderr, "error: %s\n", why.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace lxz::front;
  if (argc < 5 || std::strcmp(argv[4], "--") != 0 || (std::strcmp(argv[3], "0") != 0 && std::strcmp(argv[3], "1") != 0))
    return fail("usage: lxzone-launch-fill DESCRIPTION_FILE ID_BASE TTY(0|1) -- ARGV...");
  std::ifstream in(argv[1], std::ios::binary);
  if (!in) return fail(std::string(argv[1]) + ": " + std::strerror(errno));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string why;
  auto desc = parse_description(bytes, &why);
  if (!desc) return fail(why);
  RunSlots slots;
  for (int i = 5; i < argc; i++) slots.argv.push_back(argv[i]);
  if (const char* term = std::getenv("TERM"); term != nullptr && term[0] != '\0') slots.term = term;
  slots.tty = argv[3][0] == '1';
  if (has_id_base_slot(desc->config)) {
    auto base = parse_decimal(argv[2]);
    if (!base) return fail(std::string("ID_BASE ") + argv[2] + ": not a number");
    slots.id_base = *base;
  }
  auto config = fill_config(desc->config, slots, &why);
  if (!config) return fail(why);
  size_t off = 0;
  while (off < config->size()) {
    ssize_t w = write(1, config->data() + off, config->size() - off);
    if (w <= 0) return fail(std::string("write: ") + std::strerror(errno));
    off += static_cast<size_t>(w);
  }
  return 0;
}
