namespace Dsg.Build.Tasks.Tests.Fakes;

/// <summary>
/// A stand-in for the Dsg tool: a bash script that honours the tool/MSBuild JSON-lines contract and "quantizes" by
/// copying the model, with a content-and-options keyed cache like the real one. Its <c>config show</c> answers with
/// the precision from <c>--msbuild-metadata Precision=X</c>, else DSG_PRECISION, else W8A8 (reporting DSG0902 for a
/// precision other than W8A8, W6A6, W4A8, W4A4) and a DSG0908 warning for metadata named Precison, and the metadata as build inputs; it logs each call to config.log. It appends each quantize call to
/// invocations.log beside itself and its working folder to working-directory. Of its two progress lines the first
/// carries the phase's times and the second, as from a tool older than them, does not. The model's file name picks a failure, as the real tool's inspection would:
/// *folded* reports DSG0201, *warn* reports a DSG0601 warning and succeeds, *crash* dies with exit code 2. With
/// --remote-cache among the options, a hit is reported as a remote hit.
/// </summary>
internal sealed class FakeDsgTool
{
    private const string Script = """
        #!/usr/bin/env bash
        here="$(cd "$(dirname "$0")" && pwd)"
        if [ "$1" = "--version" ]; then echo "@VERSION@"; exit 0; fi
        if [ "$1" = "config" ] && [ "$2" = "show" ]; then
          shift 3
          precision="${DSG_PRECISION:-W8A8}"; inputs=""
          while [ $# -gt 0 ]; do
            case "$1" in
              --msbuild-metadata)
                case "$2" in
                  Precision=*) precision="${2#Precision=}" ;;
                  Precison=*) echo "{\"type\":\"warning\",\"code\":\"DSG0908\",\"message\":\"<DsgQuantize> metadata 'Precison' is not a Dsg setting and is ignored; did you mean 'Precision'?\"}" ;;
                esac
                inputs="$inputs,\"$2\""; shift 2 ;;
              --config) inputs="$inputs,\"config=$2\""; shift 2 ;;
              *) shift ;;
            esac
          done
          echo "config $precision${inputs}" >> "$here/config.log"
          case "$precision" in
            W8A8|W6A6|W4A8|W4A4) ;;
            *) echo "{\"type\":\"error\",\"code\":\"DSG0902\",\"message\":\"Invalid value '$precision' for MSBuild metadata Precision: expected W8A8, W6A6, W4A8, W4A4.\",\"hint\":\"Fix Precision on the <DsgQuantize> item.\"}"; exit 1 ;;
          esac
          echo "{\"type\":\"config\",\"configFile\":null,\"buildInputs\":[\"precision=$precision\"$inputs],\"settings\":[{\"name\":\"Precision\",\"value\":\"$precision\"}]}"
          exit 0
        fi
        if [ "$1" != "quantize" ]; then echo "fake dsg: unknown verb '$1'" >&2; exit 2; fi
        model="$2"; shift 2
        out=""; cache=""; options=""
        while [ $# -gt 0 ]; do
          case "$1" in
            --out) out="$2"; shift 2 ;;
            --cache-dir) cache="$2"; shift 2 ;;
            --json|--no-cache) shift ;;
            *) options="$options $1"; shift ;;
          esac
        done
        echo "quantize $model$options" >> "$here/invocations.log"
        pwd > "$here/working-directory"
        echo '{"type":"phase","phase":"generate","status":"start"}'
        case "$(basename "$model")" in
          *folded*)
            echo "{\"type\":\"error\",\"code\":\"DSG0201\",\"message\":\"The model has no BatchNormalization nodes (folded at export?).\",\"hint\":\"Export with torch.onnx.export(..., training=torch.onnx.TrainingMode.PRESERVE).\",\"file\":\"$model\"}"
            exit 1 ;;
          *crash*)
            echo "Unhandled exception. System.InvalidOperationException: boom" >&2
            exit 2 ;;
          *warn*)
            echo '{"type":"warning","code":"DSG0601","message":"Generation stopped early: the loss did not improve."}' ;;
        esac
        key=$( (cat "$model"; echo "$options") | sha256sum | cut -c1-64)
        hit=false
        if [ -n "$cache" ] && [ -f "$cache/$key.onnx" ]; then
          cp "$cache/$key.onnx" "$out"; hit=true
        else
          echo '{"type":"progress","phase":"generate","current":1,"total":2,"message":"reading","elapsedSeconds":62.4,"etaSeconds":190.2}'
          echo '{"type":"progress","phase":"generate","current":2,"total":2,"message":"copying"}'
          cp "$model" "$out"
          if [ -n "$cache" ]; then mkdir -p "$cache"; cp "$out" "$cache/$key.onnx"; fi
        fi
        echo '{"type":"phase","phase":"generate","status":"done","seconds":0.1}'
        remote=false
        case "$options" in *--remote-cache\ *) remote=$hit ;; esac
        echo "{\"type\":\"result\",\"output\":\"$out\",\"reports\":[],\"cacheHit\":$hit,\"remoteHit\":$remote,\"cacheKey\":\"$key\",\"seconds\":0.1}"
        """;

    private FakeDsgTool(string path) => Path = path;

    /// <summary>The script; pass it as DsgToolPath.</summary>
    public string Path { get; }

    /// <summary>The quantize calls so far, one line each: <c>quantize MODEL --option value ...</c>.</summary>
    public IReadOnlyList<string> Invocations
    {
        get
        {
            string log = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(Path)!, "invocations.log");
            return File.Exists(log) ? File.ReadAllLines(log) : [];
        }
    }

    /// <summary>The config show calls so far, one line each: <c>config PRECISION,"NAME=VALUE",...</c>.</summary>
    public IReadOnlyList<string> ConfigCalls
    {
        get
        {
            string log = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(Path)!, "config.log");
            return File.Exists(log) ? File.ReadAllLines(log) : [];
        }
    }

    /// <summary>The folder the last quantize call ran in.</summary>
    public string LastWorkingDirectory =>
        File.ReadAllText(System.IO.Path.Combine(System.IO.Path.GetDirectoryName(Path)!, "working-directory")).Trim();

    /// <summary>Writes the script into <paramref name="directory"/>; <paramref name="version"/> is what --version prints.</summary>
    public static FakeDsgTool Create(string directory, string version = "0.1.0+fake")
    {
        Directory.CreateDirectory(directory);
        string path = System.IO.Path.Combine(directory, "dotnet-dsg");
        File.WriteAllText(path, Script.Replace("@VERSION@", version, StringComparison.Ordinal).ReplaceLineEndings("\n") + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return new FakeDsgTool(path);
    }
}
