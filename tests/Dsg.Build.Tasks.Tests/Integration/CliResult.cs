namespace Dsg.Build.Tasks.Tests.Integration;

/// <summary>What a finished <c>dotnet</c> command did: its exit code, its stdout and stderr interleaved, and how long it took.</summary>
internal sealed record CliResult(int ExitCode, string Output, TimeSpan Elapsed);
