namespace Dsg.Core.Caching;

/// <summary>
/// How to talk to a remote cache. The tool fills it from its settings (their defaults live there, once); the
/// Authorization value is read from the environment variable the settings name and is never printed.
/// </summary>
/// <param name="BaseUri">The folder the entries live in, ending with '/': entry KEY is <c>BaseUri + KEY</c>.</param>
/// <param name="Mode">Whether the run may upload.</param>
/// <param name="Authorization">The Authorization header's value (for example <c>Basic ...</c> or <c>Bearer ...</c>), or null for none.</param>
/// <param name="Timeout">How long one request may go without progress (connecting, waiting for the answer, or between chunks of a transfer).</param>
/// <param name="Retries">Further attempts after a failed request (a network error, a timeout, 408, 429 or 5xx).</param>
public sealed record RemoteCacheSettings(Uri BaseUri, RemoteCacheMode Mode, string? Authorization, TimeSpan Timeout, int Retries)
{
    /// <summary>
    /// Parses a remote cache URL: absolute http or https, without user information (credentials go in the
    /// Authorization variable, never in a URL that logs print), a query or a fragment. The path gets a trailing '/'.
    /// Null when the text is not such a URL.
    /// </summary>
    public static Uri? ParseBaseUri(string text)
    {
        if (!Uri.TryCreate(text.Trim(), UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || uri.UserInfo.Length > 0 || uri.Query.Length > 0 || uri.Fragment.Length > 0 || uri.Host.Length == 0)
        {
            return null;
        }

        return uri.AbsolutePath.EndsWith('/') ? uri : new Uri(uri.GetLeftPart(UriPartial.Path) + "/");
    }

    /// <summary>Whether <paramref name="name"/> can name an environment variable: letters, digits and '_', not starting with a digit.</summary>
    public static bool IsVariableName(string name) =>
        name.Length > 0 && !char.IsAsciiDigit(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}
