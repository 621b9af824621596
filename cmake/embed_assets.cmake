# Writes OUT: a C++ source with every file of ASSET_DIR as a string, so that
# keyward-web carries its templates and CSS and needs no files at run time.
file(GLOB assets RELATIVE ${ASSET_DIR} ${ASSET_DIR}/*)
list(SORT assets)
set(body "// Generated from web/ by cmake/embed_assets.cmake. Do not edit.\n#include <string_view>\n#include <utility>\n\nnamespace keyward::web {\n\nstd::pair<std::string_view, std::string_view> kAssets[] = {\n")
foreach(name ${assets})
  file(READ ${ASSET_DIR}/${name} hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "\\\\x\\1" escaped "${hex}")
  string(APPEND body "    {\"${name}\", std::string_view(\"${escaped}\", sizeof(\"${escaped}\") - 1)},\n")
endforeach()
string(APPEND body "};\n\nstd::size_t kAssetCount = sizeof(kAssets) / sizeof(kAssets[0]);\n\n}  // namespace keyward::web\n")
file(WRITE ${OUT} "${body}")
