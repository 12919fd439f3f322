# Shared by the fuzz targets' run.sh scripts (sourced, not run): builds a libFuzzer binary
# with clang (+ ASan + UBSan) from a list of sources, two compile jobs at a time.
#
#   fuzz_setup BUILD_DIR NAME          sets root, out (BUILD_DIR/NAME-fuzz), gen, cxx, common
#   fuzz_build BINARY "LIBS" UNIT...   UNIT = path.cpp (instrumented) or =path.cpp (sanitizers
#                                      only); recompiles what changed; links BINARY in $out
#   fuzz_run BINARY SECONDS DICT       runs it on $out/corpus and $out/seeds

fuzz_setup()
{
    local build=$1 name=$2
    root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    mkdir -p "$build"
    build=$(cd "$build" && pwd)
    out=$build/$name-fuzz
    mkdir -p "$out/obj" "$out/corpus" "$out/seeds"
    cxx=${CXX_FUZZ:-clang++}
    gen=$build/core/gen
    if [[ ! -f $gen/forwarder.pb.cc || ! -f $gen/forwarder.pb.h ]]; then
        gen=$out/gen
        mkdir -p "$gen"
        protoc --cpp_out="$gen" -I "$root/core/proto" "$root/core/proto/forwarder.proto"
    fi
    common=(-std=c++20 -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined
            -fno-sanitize-recover=undefined)
}

fuzz_build()
{
    local binary=$1 libs=$2
    shift 2
    local includes=(-I "$root/plugins/lns" -I "$root/plugins/cups" -I "$root/plugins/semtech-udp"
                    -I "$root/core/support"
                    -I "$gen")
    local pb_cflags pb_libs
    read -r -a pb_cflags <<<"$(pkg-config --cflags protobuf-lite)"
    read -r -a pb_libs <<<"$(pkg-config --libs protobuf-lite)"
    local objects=() pids=() unit source extra object headers
    headers=$(find "$root/plugins/lns" "$root/plugins/cups" "$root/core/support" -name '*.hpp' \
              -newer "$out/obj" 2>/dev/null | head -n 1)
    for unit in "$@" "=$gen/forwarder.pb.cc"; do
        if [[ $unit == =* ]]; then
            source=${unit#=}
            extra=""
        else
            source=$unit
            extra=-fsanitize=fuzzer-no-link
        fi
        object=$out/obj/$(basename "${source%.*}").o
        objects+=("$object")
        if [[ ! -f $object || $source -nt $object || -n $headers ]]; then
            echo "compiling $(basename "$source")"
            "$cxx" "${common[@]}" $extra "${includes[@]}" "${pb_cflags[@]}" -c "$source" \
                -o "$object" &
            pids+=($!)
            if (( ${#pids[@]} >= 2 )); then # 2 cores
                wait "${pids[0]}"
                pids=("${pids[@]:1}")
            fi
        fi
    done
    for pid in "${pids[@]}"; do
        wait "$pid"
    done
    touch "$out/obj"
    # shellcheck disable=SC2086
    "$cxx" "${common[@]}" -fsanitize=fuzzer "${objects[@]}" -o "$out/$binary" \
        -lPocoJSON -lPocoFoundation "${pb_libs[@]}" $libs -lpthread
}

fuzz_run()
{
    local binary=$1 seconds=$2 dict=$3
    echo "fuzzing for ${seconds}s ($(ls "$out/seeds" | wc -l) seeds, corpus $out/corpus)"
    "$out/$binary" -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -dict="$dict" -artifact_prefix="$out/" "$out/corpus" "$out/seeds"
}
