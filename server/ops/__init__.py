"""Operations: health check and the request log."""
