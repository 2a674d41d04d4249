using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Xml;
using System.Xml.Linq;

namespace Dsg.Core.Caching;

/// <summary>
/// The HTTP side of the remote cache: entry KEY is one <see cref="EntryArchive"/> at <c>BaseUri + KEY</c>, read with
/// GET, listed with WebDAV PROPFIND and written with PUT to a temporary name beside it followed by WebDAV MOVE onto
/// the key, so a reader sees no entry or a whole one, never half of one. Any server that speaks WebDAV serves it
/// (nginx with <c>dav_methods</c> and the dav-ext module for PROPFIND, Apache mod_dav).
/// <list type="bullet">
/// <item>Each request may go <see cref="RemoteCacheSettings.Timeout"/> without progress and is retried
/// <see cref="RemoteCacheSettings.Retries"/> times after a network error, a timeout, 408, 429 or 5xx.</item>
/// <item>Failures are <see cref="DsgException"/>s with an 081x code. A build turns them into one warning through
/// <see cref="Suspend"/> and stops using the remote (or, after a failed upload, uploading) for the rest of the run.</item>
/// <item>The Authorization value goes in the request header only; no message names it.</item>
/// </list>
/// </summary>
public sealed class RemoteCache : IDisposable
{
    private const int BufferSize = 1 << 16;
    private static readonly HttpMethod s_move = new("MOVE");
    private static readonly HttpMethod s_propfind = new("PROPFIND");
    private static readonly XNamespace s_dav = "DAV:";
    private readonly HttpClient _http;
    private bool _suspended;
    private bool _uploadsSuspended;

    /// <summary>Creates a client for the remote cache (nothing is sent until the first call).</summary>
    /// <param name="settings">Where the cache is and how to talk to it.</param>
    /// <param name="handler">The HTTP handler; null uses one that does not follow redirects (which would drop the Authorization header).</param>
    public RemoteCache(RemoteCacheSettings settings, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        Settings = settings;
        handler ??= new SocketsHttpHandler { AllowAutoRedirect = false, ConnectTimeout = settings.Timeout };
        _http = new HttpClient(handler, disposeHandler: true) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("dsg-remote-cache", CacheKey.AlgorithmVersion.ToString(CultureInfo.InvariantCulture)));
    }

    /// <summary>The settings this client was made with.</summary>
    public RemoteCacheSettings Settings { get; }

    /// <summary>The folder the entries live in (ends with '/').</summary>
    public Uri BaseUri => Settings.BaseUri;

    /// <summary>Whether this run still reads from the remote (false once it failed and was suspended).</summary>
    public bool CanRead => !_suspended;

    /// <summary>Whether this run uploads: mode readwrite, and neither reads nor uploads were suspended.</summary>
    public bool CanWrite => Settings.Mode == RemoteCacheMode.ReadWrite && !_suspended && !_uploadsSuspended;

    /// <summary>The URL of entry <paramref name="key"/>.</summary>
    public Uri EntryUri(string key) => new(Settings.BaseUri, key);

    /// <summary>
    /// Stops using the remote for the rest of the run after <paramref name="failure"/> (only uploading, when
    /// <paramref name="uploadsOnly"/>), and warns through <paramref name="warn"/> the first time only.
    /// </summary>
    public void Suspend(DsgException failure, bool uploadsOnly, Action<CacheWarning>? warn)
    {
        ArgumentNullException.ThrowIfNull(failure);
        bool alreadyTold = _suspended || (uploadsOnly && _uploadsSuspended);
        if (uploadsOnly)
        {
            _uploadsSuspended = true;
        }
        else
        {
            _suspended = true;
        }

        if (!alreadyTold)
        {
            warn?.Invoke(new CacheWarning(failure.Code, $"{failure.Message} {failure.Hint}"));
        }
    }

    /// <summary>Downloads entry <paramref name="key"/>'s archive to <paramref name="path"/> (replaced). False when the remote does not have it.</summary>
    /// <exception cref="DsgException"><see cref="ErrorCodes.RemoteCacheUnavailable"/>, <see cref="ErrorCodes.RemoteCacheUnauthorized"/>.</exception>
    /// <exception cref="InvalidDataException">The body is longer than <paramref name="maxBytes"/>.</exception>
    /// <exception cref="IOException">The file cannot be written (the local disk, not the network).</exception>
    public Task<bool> DownloadAsync(string key, string path, long maxBytes, CancellationToken cancellationToken) =>
        SendAsync($"the download of entry {key}", writing: false, () => new HttpRequestMessage(HttpMethod.Get, EntryUri(key)), async (response, idle) =>
        {
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return false;
            }

            EnsureSuccess(response, $"the download of entry {key}", writing: false);
            var body = await Network(() => response.Content.ReadAsStreamAsync(idle.Token)).ConfigureAwait(false);
            await using (body.ConfigureAwait(false))
            {
                var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, BufferSize, useAsync: true);
                await using (file.ConfigureAwait(false))
                {
                    var buffer = new byte[BufferSize];
                    long total = 0;
                    while (true)
                    {
                        int read = await Network(() => body.ReadAsync(buffer, idle.Token).AsTask()).ConfigureAwait(false);
                        if (read == 0)
                        {
                            break;
                        }

                        idle.Reset();
                        total += read;
                        if (total > maxBytes)
                        {
                            throw new InvalidDataException($"the download is larger than the cache size limit ({ByteSize.Format(maxBytes)})");
                        }

                        await file.WriteAsync(buffer.AsMemory(0, read), idle.Token).ConfigureAwait(false);
                    }
                }
            }

            return true;
        }, cancellationToken);

    /// <summary>Whether the remote has entry <paramref name="key"/> (HEAD).</summary>
    /// <exception cref="DsgException"><see cref="ErrorCodes.RemoteCacheUnavailable"/>, <see cref="ErrorCodes.RemoteCacheUnauthorized"/>.</exception>
    public Task<bool> ExistsAsync(string key, CancellationToken cancellationToken) =>
        SendAsync($"the lookup of entry {key}", writing: false, () => new HttpRequestMessage(HttpMethod.Head, EntryUri(key)), (response, _) =>
        {
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return Task.FromResult(false);
            }

            EnsureSuccess(response, $"the lookup of entry {key}", writing: false);
            return Task.FromResult(true);
        }, cancellationToken);

    /// <summary>
    /// Uploads an archive as entry <paramref name="key"/>: PUT to <c>.KEY.GUID.tmp</c> beside it, then MOVE onto the key.
    /// Without <paramref name="replace"/> an entry that is already there stays (the first upload wins; entries of one key
    /// are interchangeable); with it the upload takes its place (after a corrupt download).
    /// </summary>
    /// <returns>True when this call put the entry there, false when another upload had already.</returns>
    /// <exception cref="DsgException"><see cref="ErrorCodes.RemoteCacheUploadFailed"/>, <see cref="ErrorCodes.RemoteCacheUnauthorized"/>, <see cref="ErrorCodes.RemoteCacheUnavailable"/>.</exception>
    public async Task<bool> UploadAsync(string key, string archivePath, bool replace, CancellationToken cancellationToken)
    {
        var temporary = new Uri(Settings.BaseUri, $".{key}.{Guid.NewGuid():N}.tmp");
        var what = $"the upload of entry {key}";
        await SendAsync(what, writing: true, () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Put, temporary);
            request.Content = new StreamContent(new FileStream(archivePath, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, useAsync: true), BufferSize);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(EntryArchive.MediaType);
            return request;
        }, (response, _) =>
        {
            EnsureSuccess(response, what + " (PUT)", writing: true);
            return Task.FromResult(true);
        }, cancellationToken, uploadProgress: true).ConfigureAwait(false);

        bool moved = false;
        try
        {
            // An absolute Destination first (RFC 4918; Apache requires it); a path when the server says the absolute
            // one names another host (nginx behind a proxy that changes the scheme or the host).
            foreach (var destination in new[] { EntryUri(key).AbsoluteUri, EntryUri(key).AbsolutePath })
            {
                var status = await SendAsync(what, writing: true, () =>
                {
                    var request = new HttpRequestMessage(s_move, temporary);
                    request.Headers.TryAddWithoutValidation("Destination", destination);
                    request.Headers.TryAddWithoutValidation("Overwrite", replace ? "T" : "F");
                    return request;
                }, (response, _) => Task.FromResult(response.StatusCode), cancellationToken).ConfigureAwait(false);
                if (status is HttpStatusCode.Created or HttpStatusCode.NoContent or HttpStatusCode.OK)
                {
                    moved = true;
                    return true;
                }

                if (status == HttpStatusCode.PreconditionFailed)
                {
                    return false;
                }

                if (status != HttpStatusCode.BadRequest || destination.StartsWith('/'))
                {
                    throw Refused(what + " (MOVE)", status, writing: true);
                }
            }

            throw Refused(what + " (MOVE)", HttpStatusCode.BadRequest, writing: true);
        }
        finally
        {
            if (!moved)
            {
                await TryDeleteAsync(temporary).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Every entry the remote holds (WebDAV PROPFIND, depth 1); names that are not keys (uploads in progress) are left out.</summary>
    /// <exception cref="DsgException"><see cref="ErrorCodes.RemoteCacheListingUnsupported"/>, <see cref="ErrorCodes.RemoteCacheUnavailable"/>, <see cref="ErrorCodes.RemoteCacheUnauthorized"/>.</exception>
    public Task<IReadOnlyList<RemoteEntry>> ListAsync(CancellationToken cancellationToken) =>
        SendAsync("the listing", writing: false, () =>
        {
            var request = new HttpRequestMessage(s_propfind, Settings.BaseUri);
            request.Headers.TryAddWithoutValidation("Depth", "1");
            request.Content = new StringContent(
                """<?xml version="1.0" encoding="utf-8"?><propfind xmlns="DAV:"><prop><resourcetype/><getcontentlength/><getlastmodified/></prop></propfind>""",
                System.Text.Encoding.UTF8, "application/xml");
            return request;
        }, async (response, idle) =>
        {
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return (IReadOnlyList<RemoteEntry>)[];
            }

            if (response.StatusCode is HttpStatusCode.MethodNotAllowed or HttpStatusCode.NotImplemented
                || (response.IsSuccessStatusCode && response.StatusCode != HttpStatusCode.MultiStatus))
            {
                throw new DsgException(ErrorCodes.RemoteCacheListingUnsupported,
                    $"The remote cache {Settings.BaseUri} does not list its entries: PROPFIND answered {Describe(response.StatusCode)}.",
                    "Listing needs WebDAV PROPFIND: on nginx load the dav-ext module (Debian: libnginx-mod-http-dav-ext) and add 'dav_ext_methods PROPFIND OPTIONS;' (docs/ci.md). Pulling and pushing named keys works without it.");
            }

            EnsureSuccess(response, "the listing", writing: false);
            var text = await Network(() => response.Content.ReadAsStringAsync(idle.Token)).ConfigureAwait(false);
            return ParseListing(text);
        }, cancellationToken);

    /// <summary>Releases the connections.</summary>
    public void Dispose() => _http.Dispose();

    private IReadOnlyList<RemoteEntry> ParseListing(string xml)
    {
        XDocument document;
        try
        {
            document = XDocument.Parse(xml);
        }
        catch (XmlException e)
        {
            throw new DsgException(ErrorCodes.RemoteCacheListingUnsupported,
                $"The remote cache {Settings.BaseUri} answered PROPFIND with something that is not a WebDAV multistatus ({e.Message}).",
                "Point --remote-cache at a WebDAV folder (docs/ci.md).", e);
        }

        var entries = new List<RemoteEntry>();
        foreach (var response in document.Descendants(s_dav + "response"))
        {
            var href = response.Element(s_dav + "href")?.Value.Trim() ?? "";
            var name = Uri.UnescapeDataString(href.TrimEnd('/').Split('/')[^1]);
            var properties = response.Descendants(s_dav + "prop").ToList();
            bool isFolder = properties.Any(p => p.Element(s_dav + "resourcetype")?.Element(s_dav + "collection") is not null);
            if (isFolder || !CacheKey.IsKey(name))
            {
                continue;
            }

            long size = long.TryParse(properties.Select(p => p.Element(s_dav + "getcontentlength")?.Value).FirstOrDefault(v => v is not null),
                NumberStyles.None, CultureInfo.InvariantCulture, out var length) ? length : -1;
            DateTimeOffset? modified = DateTimeOffset.TryParse(properties.Select(p => p.Element(s_dav + "getlastmodified")?.Value).FirstOrDefault(v => v is not null),
                CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var when) ? when.ToUniversalTime() : null;
            entries.Add(new RemoteEntry(name, size, modified));
        }

        return entries.OrderByDescending(e => e.LastModifiedUtc).ThenBy(e => e.Key, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Sends a request made by <paramref name="create"/> and hands the answer to <paramref name="handle"/>, retrying after
    /// a network error, a timeout or a status that says to try again.
    /// </summary>
    private async Task<T> SendAsync<T>(string what, bool writing, Func<HttpRequestMessage> create,
        Func<HttpResponseMessage, IdleTimeout, Task<T>> handle, CancellationToken cancellationToken, bool uploadProgress = false)
    {
        int attempts = Settings.Retries + 1;
        string reason = "";
        for (int attempt = 0; attempt < attempts; attempt++)
        {
            if (attempt > 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 200 << Math.Min(attempt - 1, 5))), cancellationToken).ConfigureAwait(false);
            }

            using var idle = new IdleTimeout(Settings.Timeout, cancellationToken);
            using var request = create();
            if (Settings.Authorization is { } authorization)
            {
                request.Headers.TryAddWithoutValidation("Authorization", authorization);
            }

            if (uploadProgress && request.Content is StreamContent)
            {
                request.Content = new ProgressContent(request.Content, idle);
            }

            try
            {
                using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, idle.Token).ConfigureAwait(false);
                if (IsTransient(response.StatusCode))
                {
                    reason = $"{what} answered {Describe(response.StatusCode)}";
                    continue;
                }

                idle.Reset();
                return await handle(response, idle).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                reason = $"{what} made no progress for {Settings.Timeout.TotalSeconds:0.#} s";
            }
            catch (HttpRequestException e)
            {
                reason = $"{what} failed: {Innermost(e)}";
            }
            catch (NetworkException e)
            {
                reason = $"{what} broke off: {Innermost(e.InnerException!)}";
            }
        }

        throw new DsgException(ErrorCodes.RemoteCacheUnavailable,
            $"The remote cache {Settings.BaseUri} cannot be used: {reason} ({attempts} attempt{(attempts == 1 ? "" : "s")}); this run goes on with the local cache only.",
            (writing ? "Nothing was uploaded. " : "") +
            "Check --remote-cache and that the server is up; a slow server may need a higher --remote-cache-timeout (seconds without progress) or --remote-cache-retries. The remote cache never fails a build.");
    }

    private void EnsureSuccess(HttpResponseMessage response, string what, bool writing)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw Refused(what, response.StatusCode, writing);
        }
    }

    private DsgException Refused(string what, HttpStatusCode status, bool writing)
    {
        if (status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            return new DsgException(ErrorCodes.RemoteCacheUnauthorized,
                $"The remote cache {Settings.BaseUri} refused {what}: {Describe(status)}" +
                (Settings.Authorization is null ? ", and no Authorization header was sent." : " for the Authorization header that was sent."),
                $"Put the header's value (for example 'Bearer TOKEN' or 'Basic BASE64') in an environment variable, name that variable with --remote-cache-auth-variable, and check that the credentials may {(writing ? "write" : "read")}. " +
                (writing ? "Builds that only read (pull requests) take --remote-cache-mode read." : "The build goes on with the local cache only."));
        }

        if (writing)
        {
            return new DsgException(ErrorCodes.RemoteCacheUploadFailed,
                $"The remote cache {Settings.BaseUri} refused {what}: {Describe(status)}; this run uploads nothing more.",
                "The server must accept WebDAV PUT and MOVE in that folder (nginx: dav_methods PUT DELETE MOVE; create_full_put_path on; client_max_body_size big enough; see docs/ci.md). For a cache this machine only reads, pass --remote-cache-mode read.");
        }

        var redirect = (int)status is >= 300 and < 400 ? " (a redirect: give the final URL, redirects are not followed so the Authorization header never goes elsewhere)" : "";
        return new DsgException(ErrorCodes.RemoteCacheUnavailable,
            $"The remote cache {Settings.BaseUri} refused {what}: {Describe(status)}{redirect}; this run goes on with the local cache only.",
            "Check the --remote-cache URL: entry KEY is fetched from URL/KEY. The remote cache never fails a build.");
    }

    private async Task TryDeleteAsync(Uri uri)
    {
        try
        {
            using var idle = new IdleTimeout(Settings.Timeout, CancellationToken.None);
            using var request = new HttpRequestMessage(HttpMethod.Delete, uri);
            if (Settings.Authorization is { } authorization)
            {
                request.Headers.TryAddWithoutValidation("Authorization", authorization);
            }

            using var response = await _http.SendAsync(request, idle.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            // A leftover temporary name only takes space; it never looks like an entry.
        }
    }

    private static bool IsTransient(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500;

    private static string Describe(HttpStatusCode status) =>
        $"{(int)status} {(Enum.IsDefined(status) ? SplitWords(status.ToString()) : "")}".TrimEnd();

    private static string SplitWords(string name) =>
        string.Concat(name.Select((c, i) => i > 0 && char.IsUpper(c) ? " " + c : c.ToString()));

    private static string Innermost(Exception e)
    {
        var message = e.Message.TrimEnd('.');
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (!message.Contains(inner.Message.TrimEnd('.'), StringComparison.Ordinal))
            {
                message += ": " + inner.Message.TrimEnd('.');
            }
        }

        return message;
    }

    /// <summary>Runs a read from the network, marking its failures as the network's (so they are retried) rather than the disk's.</summary>
    private static async Task<T> Network<T>(Func<Task<T>> read)
    {
        try
        {
            return await read().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            throw new NetworkException(e);
        }
    }

    /// <summary>A transfer that broke off in the middle.</summary>
    private sealed class NetworkException(Exception inner) : Exception(inner.Message, inner);

    /// <summary>A token that fires after a span without progress; <see cref="Reset"/> marks progress.</summary>
    private sealed class IdleTimeout : IDisposable
    {
        private readonly CancellationTokenSource _source;
        private readonly TimeSpan _span;

        public IdleTimeout(TimeSpan span, CancellationToken outer)
        {
            _span = span;
            _source = CancellationTokenSource.CreateLinkedTokenSource(outer);
            _source.CancelAfter(span);
        }

        public CancellationToken Token => _source.Token;

        public void Reset()
        {
            try
            {
                _source.CancelAfter(_span);
            }
            catch (ObjectDisposedException)
            {
            }
        }

        public void Dispose() => _source.Dispose();
    }

    /// <summary>Request content that marks progress on the idle timeout as the body goes out.</summary>
    private sealed class ProgressContent : HttpContent
    {
        private readonly HttpContent _inner;
        private readonly IdleTimeout _idle;

        public ProgressContent(HttpContent inner, IdleTimeout idle)
        {
            _inner = inner;
            _idle = idle;
            foreach (var header in inner.Headers)
            {
                Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            await SerializeToStreamAsync(stream, context, CancellationToken.None).ConfigureAwait(false);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            var source = await _inner.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            var buffer = new byte[BufferSize];
            int read;
            while ((read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                await stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                _idle.Reset();
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = _inner.Headers.ContentLength ?? -1;
            return length >= 0;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
