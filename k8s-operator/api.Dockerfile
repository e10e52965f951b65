# SignalStream API image (`serve`: REST, WebSocket streams, dashboard), for
# base/api-deployment.yaml. Not a Flink image: the local jar bundles everything `serve` needs.
#
# Build from the repository root:
#   mvn -B package -DskipTests
#   docker build -f k8s-operator/api.Dockerfile -t signalstream-api:0.1.0 .
FROM eclipse-temurin:17-jre

RUN groupadd --system --gid 10001 signalstream \
    && useradd --system --uid 10001 --gid 10001 --home-dir /opt/signalstream --no-create-home signalstream

COPY --chown=10001:10001 jobs/local/target/signalstream.jar /opt/signalstream/signalstream.jar

USER 10001:10001
WORKDIR /opt/signalstream
EXPOSE 8080
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-jar", "/opt/signalstream/signalstream.jar"]
CMD ["serve", "--port", "8080"]
