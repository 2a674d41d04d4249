namespace Dsg.Build.Tasks;

/// <summary>Finds how to start the Dsg tool: an explicit path, or a command such as <c>dotnet dsg</c>.</summary>
public sealed class DsgToolLocator
{
    /// <summary>Splits <paramref name="command"/> into the executable and its leading arguments.</summary>
    public static (string FileName, string Arguments) Split(string command)
    {
        var trimmed = (command ?? string.Empty).Trim();
        int space = trimmed.IndexOf(' ');
        return space < 0 ? (trimmed, string.Empty) : (trimmed.Substring(0, space), trimmed.Substring(space + 1).Trim());
    }
}
