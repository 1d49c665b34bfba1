#!/usr/bin/env bash
# Checks whether a GraalVM native executable can be built here (issue 21, docs/benchmarks/README.md "Native
# executable"): the native-image builder from Maven Central (org.graalvm.nativeimage:svm and its dependencies, the
# version below) run on the machine's Temurin 25 JDK, on a one-class program. It stops where the build stops and
# prints the builder's own error; exit 0 only if an executable was written and runs.
#
#   bash tools/native-image/check-builder.sh            # JDK: JAVA25_HOME or /usr/lib/jvm/temurin-25-jdk-amd64
#
# What it has to provide that a GraalVM distribution has and the Maven artifacts do not (each found by an error of
# the builder, in this order): the qualified exports of the JDK's internal packages to the builder's modules (the
# GraalVM driver passes them; here: every package of every JDK module), -H:ImageBuildID, and the builder's small
# JNI helper lib/svm/builder/lib/libreporterchelper.so under java.home (terminal width and peak RSS; compiled here
# into a copy of the JDK). What it cannot provide: the static JDK libraries (libjava.a, libnio.a, libnet.a, ...)
# that the image is linked with, which only GraalVM's JDKs ship (Temurin and Debian's openjdk-25 have the shared
# libraries only), and after them SubstrateVM's own C libraries (lib/svm/clibraries).
set -euo pipefail
version=25.0.4
jdk="${JAVA25_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
log() { echo "native-image check: $*" >&2; }

log "resolving org.graalvm.nativeimage:svm:$version (Maven Central)"
mvn -q -B -ntp dependency:get -Dartifact="org.graalvm.nativeimage:svm:$version" -Dtransitive=true >&2
repo="${MAVEN_REPO:-$HOME/.m2/repository}/org/graalvm"
modules=$(ls "$repo"/nativeimage/*/"$version"/*.jar "$repo"/sdk/*/"$version"/*.jar "$repo"/espresso/*/"$version"/*.jar \
  "$repo"/truffle/*/"$version"/*.jar | tr '\n' ':')
compiler="$repo/compiler/compiler/$version/compiler-$version.jar"

# A copy of the JDK with the builder's JNI helper where the builder looks for it (java.home/lib/svm/builder/lib).
cp -a "$jdk" "$work/jdk"
mkdir -p "$work/jdk/lib/svm/builder/lib"
cat > "$work/helper.c" <<'C'
#include <jni.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <unistd.h>
JNIEXPORT jint JNICALL Java_com_oracle_svm_hosted_ProgressReporterCHelper_getTerminalWindowColumns0(JNIEnv *e, jclass c) {
  struct winsize w;
  return ioctl(STDOUT_FILENO, TIOCGWINSZ, &w) == 0 ? w.ws_col : -1;
}
JNIEXPORT jlong JNICALL Java_com_oracle_svm_hosted_ProgressReporterCHelper_getPeakRSS0(JNIEnv *e, jclass c) {
  struct rusage u;
  return getrusage(RUSAGE_SELF, &u) == 0 ? (jlong) u.ru_maxrss * 1024 : -1;
}
C
gcc -shared -fPIC -O2 -I "$jdk/include" -I "$jdk/include/linux" -o "$work/jdk/lib/svm/builder/lib/libreporterchelper.so" \
  "$work/helper.c"

# Every package of every JDK module, exported to the builder's modules.
targets=org.graalvm.nativeimage.builder,org.graalvm.nativeimage.base,org.graalvm.nativeimage.pointsto
targets+=,org.graalvm.nativeimage.objectfile,org.graalvm.nativeimage.configure,jdk.graal.compiler
for m in $("$jdk/bin/java" --list-modules | sed 's/@.*//'); do
  "$jdk/bin/java" --describe-module "$m" | awk -v m="$m" -v t="$targets" \
    '$1=="contains"{print "--add-exports=" m "/" $2 "=" t} $1=="qualified"{print "--add-exports=" m "/" $3 "=" t}'
done | sort -u > "$work/exports"

mkdir -p "$work/src/check" "$work/classes" "$work/out"
printf 'package check;\npublic class Hello { public static void main(String[] a) { System.out.println("hello"); } }\n' \
  > "$work/src/check/Hello.java"
"$jdk/bin/javac" --release 17 -d "$work/classes" "$work/src/check/Hello.java"

log "running the builder on $("$jdk/bin/java" -version 2>&1 | sed -n 1p)"
set +e
JVMCI_VERSION_CHECK=ignore "$work/jdk/bin/java" -XX:+UnlockExperimentalVMOptions -XX:+EnableJVMCI \
  -XX:-UseJVMCICompiler -Xmx3g -Xss10m "@$work/exports" --enable-native-access=org.graalvm.nativeimage.builder \
  -Djava.system.class.loader=com.oracle.svm.hosted.NativeImageSystemClassLoader -Dcom.oracle.graalvm.isaot=true \
  -Dorg.graalvm.nativeimage.imagecode=buildtime -Dorg.graalvm.version="$version" \
  --upgrade-module-path "$compiler" --module-path "$modules" --add-modules ALL-DEFAULT \
  -m org.graalvm.nativeimage.builder/com.oracle.svm.hosted.NativeImageGeneratorRunner \
  -imagecp "$work/classes" -H:Path="$work/out" -H:Name=hello -H:Class=check.Hello \
  -H:ImageBuildID="$(cat /proc/sys/kernel/random/uuid)" > "$work/build.log" 2>&1
rc=$?
set -e
grep -v '^WARNING: Unknown module' "$work/build.log" | grep -E -A4 '^(Error|Fatal error)|unexpected error' >&2 || true
if [[ $rc == 0 && -x "$work/out/hello" ]] && "$work/out/hello"; then
  log "built and ran a native executable"; exit 0
fi
log "no native executable (builder exit code $rc)"; exit 1
