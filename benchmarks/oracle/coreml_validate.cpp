// coreml_validate: a timing oracle over Core ML's open-source C++ validator (apple/coremltools, mlmodel/).
// Usage: coreml_validate MODEL.mlmodel [rounds=5]. Prints one JSON line: the best round of load + validate (the
// same work `CoreML::Model::validate` does for coremltools), and whether the model is valid. Built by build.sh.
#include "Format.hpp"
#include "Model.hpp"
#include "Utils.hpp"
#include "Result.hpp"
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

static std::string jsonEscape(const std::string& s) {
    std::string o;
    for (unsigned char c : s) {
        switch (c) {
            case '"': o += "\\\""; break;
            case '\\': o += "\\\\"; break;
            case '\n': o += "\\n"; break;
            case '\r': o += "\\r"; break;
            case '\t': o += "\\t"; break;
            default:
                if (c < 0x20) { char b[8]; std::snprintf(b, sizeof b, "\\u%04x", c); o += b; }
                else o += (char)c;
        }
    }
    return o;
}

int main(int argc, char** argv) {
    if (argc < 2 || argc > 3) {
        std::fprintf(stderr, "usage: %s MODEL.mlmodel [rounds=5]\n", argv[0]);
        return 1;
    }
    const std::string path = argv[1];
    int rounds = argc == 3 ? std::atoi(argv[2]) : 5;
    if (rounds < 1) rounds = 1;
    using clk = std::chrono::steady_clock;
    double best = 1e300, bestLoad = 0, bestVal = 0;
    bool valid = false;
    std::string message;
    for (int i = 0; i < rounds; ++i) {
        auto t0 = clk::now();
        CoreML::Specification::Model spec;
        CoreML::Result r;
        {
            std::ifstream in(path, std::ios::binary);
            if (!in.good())
                r = CoreML::Result(CoreML::ResultType::UNABLE_TO_OPEN_FILE, "unable to open file for read");
            else
                r = CoreML::loadSpecification(spec, in);
        }
        auto t1 = clk::now();
        if (r.good()) {
            CoreML::Model model(spec);   // copies spec + downgradeSpecificationVersion
            r = model.validate();
        }
        auto t2 = clk::now();
        double l = std::chrono::duration<double>(t1 - t0).count();
        double v = std::chrono::duration<double>(t2 - t1).count();
        if (l + v < best) { best = l + v; bestLoad = l; bestVal = v; }
        valid = r.good();
        message = r.message();
    }
    std::printf("{\"seconds\": %.6f, \"load_seconds\": %.6f, \"validate_seconds\": %.6f, \"valid\": %s, \"message\": \"%s\"}\n",
                best, bestLoad, bestVal, valid ? "true" : "false", jsonEscape(message).c_str());
    return 0;
}
