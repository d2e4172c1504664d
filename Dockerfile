FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /kefu ./cmd/kefu

FROM gcr.io/distroless/static-debian12
COPY --from=build /kefu /kefu
ENV KEFU_DATA_DIR=/data
EXPOSE 8080 8081
ENTRYPOINT ["/kefu", "serve"]
