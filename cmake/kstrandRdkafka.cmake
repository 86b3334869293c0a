# kstrand::rdkafka: librdkafka as a static archive, with what the archive needs
# at link time (OpenSSL, zstd, lz4, zlib; SASL is off: SCRAM uses OpenSSL).
# Included twice, from one file: by kstrand's build (the archive in .deps/) and
# by the installed kstrandConfig.cmake (the private copy under
# <libdir>/kstrand/), with KSTRAND_RDKAFKA_ARCHIVE set to the archive's path.
#
# Why static: a program linked with it runs the librdkafka kstrand was built
# and tested with whatever the machine has. Debian's librdkafka1 (2.0.2, which
# loses messages with pause/resume) has the same SONAME, librdkafka.so.1, as
# ours; a shared private copy would be found only through a RUNPATH, which
# `cmake --install` of the user's program strips, LD_LIBRARY_PATH overrides and
# moving the kstrand prefix breaks.
if(TARGET kstrand::rdkafka)
  return()
endif()
find_package(PkgConfig REQUIRED)
pkg_check_modules(KSTRAND_RDKAFKA_DEPS REQUIRED IMPORTED_TARGET libssl libcrypto libzstd liblz4 zlib)
find_package(Threads REQUIRED)
add_library(kstrand::rdkafka STATIC IMPORTED)
set_target_properties(kstrand::rdkafka PROPERTIES
  IMPORTED_LOCATION "${KSTRAND_RDKAFKA_ARCHIVE}"
  IMPORTED_LINK_INTERFACE_LANGUAGES C
  INTERFACE_LINK_LIBRARIES "PkgConfig::KSTRAND_RDKAFKA_DEPS;Threads::Threads;m;dl;rt")
