namespace Dsg.Core.Generation;

/// <summary>Something about a generation run that does not stop it, such as a loss term switched off.</summary>
/// <param name="Code">A stable DSG code (docs/errors.md).</param>
/// <param name="Message">What happened and why.</param>
public sealed record GenerationWarning(string Code, string Message);
