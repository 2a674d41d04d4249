namespace Dsg.Build.Tasks.Tests;

public sealed class ToolMessageTests
{
    [Fact]
    public void ReadsAResultLine()
    {
        const string line = """{"type":"result","output":"/o/m.int8.onnx","reports":["/o/m.report.json","/o/m.report.md"],"cacheHit":true,"cacheKey":"ab12","seconds":12.3,"agreement":0.987}""";

        Assert.True(ToolMessage.TryParse(line, out var m));
        Assert.Equal("result", m.Type);
        Assert.Equal("/o/m.int8.onnx", m.Output);
        Assert.Equal(["/o/m.report.json", "/o/m.report.md"], m.Reports);
        Assert.True(m.CacheHit);
        Assert.False(m.RemoteHit); // absent from older tools
        Assert.False(m.Uploaded);
        Assert.Equal(12.3, m.Seconds);
        Assert.Equal(0.987, m.Agreement);
        Assert.Null(m.AgreementMetric);
        Assert.True(ToolMessage.TryParse("""{"type":"result","cacheHit":true,"remoteHit":true,"uploaded":false}""", out var remote));
        Assert.True(remote.RemoteHit);
        Assert.True(ToolMessage.TryParse("""{"type":"result","cacheHit":false,"remoteHit":false,"uploaded":true}""", out var uploaded));
        Assert.True(uploaded.Uploaded);
        Assert.True(ToolMessage.TryParse("""{"type":"result","agreement":0.998,"agreementMetric":"cosine"}""", out var cosine));
        Assert.Equal("cosine", cosine.AgreementMetric);
    }

    [Fact]
    public void ReadsAnErrorLineWithEscapes()
    {
        const string line = """ {"type":"error","code":"DSG0201","message":"No \"BatchNormalization\" in caf\u00e9\\net","hint":"Export again.\nSee docs.","file":"C:\\m.onnx","extra":{"a":[1,-2.5e3,null,false]}} """;

        Assert.True(ToolMessage.TryParse(line, out var m));
        Assert.Equal("DSG0201", m.Code);
        Assert.Equal("No \"BatchNormalization\" in café\\net", m.Message);
        Assert.Equal("Export again.\nSee docs.", m.Hint);
        Assert.Equal("C:\\m.onnx", m.File);
        Assert.False(m.CacheHit);
    }

    [Fact]
    public void ReadsProgress()
    {
        Assert.True(ToolMessage.TryParse("""{"type":"progress","phase":"generate","current":3,"total":40,"message":"batch 1/2"}""", out var m));
        Assert.Equal(3, m.Current);
        Assert.Equal(40, m.Total);
        Assert.Equal("generate", m.Phase);
        Assert.Null(m.ElapsedSeconds);
        Assert.Null(m.EtaSeconds);
    }

    [Fact]
    public void ReadsTheTimesOfAProgressLineWithAnUnknownEstimateAsNull()
    {
        Assert.True(ToolMessage.TryParse("""{"type":"progress","phase":"generate","current":3,"total":40,"message":"m","elapsedSeconds":62.4,"etaSeconds":190.2}""", out var m));
        Assert.Equal(62.4, m.ElapsedSeconds);
        Assert.Equal(190.2, m.EtaSeconds);
        Assert.True(ToolMessage.TryParse("""{"type":"progress","phase":"generate","current":1,"total":40,"message":"m","elapsedSeconds":1.5,"etaSeconds":null}""", out var first));
        Assert.Equal(1.5, first.ElapsedSeconds);
        Assert.Null(first.EtaSeconds);
    }

    [Theory]
    [InlineData("Generating samples...")]
    [InlineData("")]
    [InlineData("{\"code\":\"DSG0101\"}")]
    [InlineData("{\"type\":3}")]
    [InlineData("{\"type\":\"error\",\"message\":\"cut")]
    [InlineData("{\"type\":\"error\"} trailing")]
    [InlineData("[1,2]")]
    public void RejectsLinesThatAreNotTypedObjects(string line)
    {
        Assert.False(ToolMessage.TryParse(line, out _));
    }
}
