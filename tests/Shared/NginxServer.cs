using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Dsg.Tests.Shared;

/// <summary>
/// A real nginx (Debian's, with its WebDAV module and the dav-ext module for PROPFIND; eng/install-deps.sh installs
/// them) serving a temporary root on a free loopback port, in the foreground as one process, stopped on dispose.
/// Three locations: <c>/open/</c> takes GET, PUT, DELETE, MOVE and PROPFIND from anyone; <c>/auth/</c> the same with
/// HTTP basic authentication (<see cref="Authorization"/>); <c>/readonly/</c> only GET, HEAD and PROPFIND; <c>/plain/</c>
/// only GET and HEAD (a static file server). Tests
/// use a fresh folder under one of them each (<see cref="NewFolder"/>) and may write crafted files into
/// <see cref="Root"/> directly.
/// </summary>
public sealed class NginxServer : IDisposable
{
    /// <summary>The Authorization header value <c>/auth/</c> accepts.</summary>
    public static readonly string Authorization = "Basic " + Convert.ToBase64String(Encoding.ASCII.GetBytes("ci:s3cret-value"));

    private static readonly string[] s_binaries = ["/usr/sbin/nginx", "/usr/bin/nginx"];
    private static readonly string[] s_davExtModules = ["/usr/lib/nginx/modules/ngx_http_dav_ext_module.so", "/usr/lib64/nginx/modules/ngx_http_dav_ext_module.so"];
    private readonly string _folder;
    private Process? _process;

    public NginxServer()
    {
        var binary = s_binaries.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("nginx is not installed; run eng/install-deps.sh (Debian packages nginx-light and libnginx-mod-http-dav-ext).");
        var module = s_davExtModules.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("nginx's dav-ext module is not installed; run eng/install-deps.sh (Debian package libnginx-mod-http-dav-ext).");
        _folder = Path.Combine(Path.GetTempPath(), "dsg-nginx-" + Guid.NewGuid().ToString("N")[..12]);
        Root = Path.Combine(_folder, "root");
        foreach (var location in new[] { "open", "auth", "readonly", "plain" })
        {
            Directory.CreateDirectory(Path.Combine(Root, location));
        }

        Directory.CreateDirectory(Path.Combine(_folder, "temp"));
        File.WriteAllText(Path.Combine(_folder, "htpasswd"), "ci:{PLAIN}s3cret-value\n");
        Exception? last = null;
        for (int attempt = 0; attempt < 3 && _process is null; attempt++)
        {
            Port = FreePort();
            try
            {
                _process = Launch(binary, module);
            }
            catch (InvalidOperationException e) when (e.Message.Contains("Address already in use", StringComparison.Ordinal))
            {
                last = e; // another process took the port between choosing and binding it
            }
        }

        if (_process is null)
        {
            throw new InvalidOperationException("nginx did not start.", last);
        }
    }

    /// <summary>The loopback port nginx listens on.</summary>
    public int Port { get; private set; }

    /// <summary>The folder nginx serves; <c>Root/open/X</c> is <c>http://127.0.0.1:PORT/open/X</c>.</summary>
    public string Root { get; }

    /// <summary>Every request nginx has logged so far, as "METHOD /path STATUS".</summary>
    public IReadOnlyList<string> Requests
    {
        get
        {
            var log = Path.Combine(_folder, "access.log");
            return File.Exists(log) ? File.ReadAllLines(log) : [];
        }
    }

    /// <summary>A fresh, not yet existing folder under <paramref name="location"/> (open, auth, readonly or plain): its URL and its path on disk.</summary>
    public (string Url, string Path) NewFolder(string location = "open")
    {
        var name = "dsg-" + Guid.NewGuid().ToString("N")[..8];
        return ($"http://127.0.0.1:{Port}/{location}/{name}/", System.IO.Path.Combine(Root, location, name));
    }

    /// <summary>The names of the files in a folder of the root, dot files (uploads in progress) included.</summary>
    public static IReadOnlyList<string> FilesIn(string path) =>
        Directory.Exists(path) ? Directory.GetFiles(path).Select(f => System.IO.Path.GetFileName(f)).Order(StringComparer.Ordinal).ToList() : [];

    public void Dispose()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            _process.WaitForExit(10_000);
        }

        _process?.Dispose();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private Process Launch(string binary, string module)
    {
        var config = Path.Combine(_folder, "nginx.conf");
        var errorLog = Path.Combine(_folder, "error.log");
        File.WriteAllText(config, Config(module));
        File.Delete(errorLog);
        var start = new ProcessStartInfo(binary)
        {
            ArgumentList = { "-p", _folder, "-c", config, "-e", errorLog },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = Process.Start(start)!;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(15))
        {
            if (process.HasExited)
            {
                var log = File.Exists(errorLog) ? File.ReadAllText(errorLog) : "";
                throw new InvalidOperationException($"nginx exited with {process.ExitCode}: {process.StandardError.ReadToEnd()} {log}");
            }

            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, Port);
                return process;
            }
            catch (SocketException)
            {
                Thread.Sleep(50);
            }
        }

        process.Kill();
        throw new InvalidOperationException("nginx did not listen within 15 s.");
    }

    private string Config(string module)
    {
        var temp = Path.Combine(_folder, "temp");
        const string dav = """
                  dav_methods PUT DELETE MKCOL COPY MOVE;
                  dav_ext_methods PROPFIND OPTIONS;
                  create_full_put_path on;
                  dav_access user:rw group:r all:r;
            """;
        return $$"""
            load_module {{module}};
            daemon off;
            master_process off;
            worker_processes 1;
            pid {{_folder}}/nginx.pid;
            error_log {{_folder}}/error.log warn;
            events { worker_connections 256; }
            http {
              log_format requests '$request_method $uri $status';
              access_log {{_folder}}/access.log requests;
              client_body_temp_path {{temp}}/body;
              proxy_temp_path {{temp}}/proxy;
              fastcgi_temp_path {{temp}}/fastcgi;
              uwsgi_temp_path {{temp}}/uwsgi;
              scgi_temp_path {{temp}}/scgi;
              server {
                listen 127.0.0.1:{{Port}};
                root {{Root}};
                client_max_body_size 0;
                location /open/ {
            {{dav}}
                }
                location /auth/ {
                  auth_basic "dsg";
                  auth_basic_user_file {{_folder}}/htpasswd;
            {{dav}}
                }
                location /readonly/ {
                  dav_ext_methods PROPFIND OPTIONS;
                }
                location /plain/ {
                }
              }
            }
            """;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
