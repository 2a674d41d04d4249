namespace Dsg.Build.Tasks.Tests.Integration;

/// <summary>
/// The tests that build the sample app share one packed feed and run one after another: each is a real
/// `dotnet build`, and two at once on a two-core machine only slow each other down.
/// </summary>
[CollectionDefinition(Name)]
public sealed class SampleAppCollection : ICollectionFixture<PackedFeedFixture>
{
    public const string Name = "SampleApp";
}
