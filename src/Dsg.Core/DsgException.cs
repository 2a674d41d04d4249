namespace Dsg.Core;

/// <summary>
/// An error the user can cause and fix. It carries a stable code (see <see cref="ErrorCodes"/>), a message
/// that says what is wrong and a hint that says what to do next. Front ends print it without a stack trace.
/// </summary>
public sealed class DsgException : Exception
{
    /// <summary>Creates an error with a stable code, a message and the next step for the user.</summary>
    public DsgException(string code, string message, string hint, Exception? inner = null)
        : base(message, inner)
    {
        Code = code;
        Hint = hint;
    }

    /// <summary>The stable code, for example <c>DSG0101</c>.</summary>
    public string Code { get; }

    /// <summary>What the user should do next.</summary>
    public string Hint { get; }

    /// <summary>The path of the file the error concerns, when there is one.</summary>
    public string? FilePath { get; init; }

    /// <summary>One line for terminals and logs: <c>error DSG0101: message Next: hint</c>.</summary>
    public override string ToString() => $"error {Code}: {Message} {Hint}".TrimEnd();
}
